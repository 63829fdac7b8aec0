// DKIM key pairs: generation, the p= value of a public key, and selector names.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import type { DkimKeyType } from "../records/dkim-signing-config.ts";

export interface DkimKeyPair {
  /** PKCS#8 PEM: goes to the secret store, nowhere else. */
  privateKeyPem: string;
  /** The base64 `p=` value to publish. */
  publicKey: string;
}

/** Ed25519 SubjectPublicKeyInfo DER is a fixed 12-byte prefix and the 32-byte key. */
const ED25519_KEY_BYTES = 32;

/** The `p=` value: SPKI DER for RSA (RFC 6376 §3.6.1), the bare key for Ed25519 (RFC 8463 §4.2). */
export function dkimPublicKeyValue(key: KeyObject): string {
  const spki = key.export({ type: "spki", format: "der" });
  if (key.asymmetricKeyType === "ed25519")
    return spki.subarray(spki.length - ED25519_KEY_BYTES).toString("base64");
  return spki.toString("base64");
}

/** The `p=` value that belongs to a PEM private key; throws when the PEM is not a key. */
export function publicKeyOfPrivate(pem: string): { keyType: string; publicKey: string } {
  const priv = createPrivateKey(pem);
  return {
    keyType: priv.asymmetricKeyType ?? "unknown",
    publicKey: dkimPublicKeyValue(createPublicKey(priv)),
  };
}

/**
 * 2048-bit RSA by default: what Gmail and Yahoo ask for, and what Exchange Online uses. 1024 is
 * the floor (RFC 8301 §3.2); 4096-bit keys do not fit one 255-octet string either, and some DNS
 * consoles refuse them.
 */
export function generateDkimKey(keyType: DkimKeyType, keySize = 2048): DkimKeyPair {
  const pair =
    keyType === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: keySize })
      : generateKeyPairSync("ed25519");
  return {
    privateKeyPem: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey: dkimPublicKeyValue(pair.publicKey),
  };
}

/**
 * A fresh selector such as `relay20250614` (`relay20250614e` for Ed25519): dated, so a rotation
 * gets a new name and DNS caches of the old record never answer for the new key; a suffix makes it
 * unique when the same day already has one.
 */
export function newSelector(now: Date, keyType: DkimKeyType, taken: Iterable<string>): string {
  const used = new Set(taken);
  const base = `relay${now.toISOString().slice(0, 10).replace(/-/g, "")}${keyType === "ed25519" ? "e" : ""}`;
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}

export function dkimSecretName(domain: string, selector: string): string {
  return `dkim/${domain}/${selector}`;
}
