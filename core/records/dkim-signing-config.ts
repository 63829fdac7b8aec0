// Schema of a DKIM signing config record: one sender domain's selectors and public keys; the private keys live only in the secret store.
import { z } from "zod";
import { domainName, recordMeta } from "./common.ts";

export const DKIM_KEY_TYPES = ["rsa", "ed25519"] as const;
export type DkimKeyType = (typeof DKIM_KEY_TYPES)[number];

/** A DNS label usable as a selector (RFC 6376 §3.1: selectors are dot-separated sub-domain labels). */
export const selectorName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/, {
    message: 'not a selector; use letters, digits and hyphens, e.g. "relay1"',
  });

/** One key pair: the public half is data (it is published in DNS), the private half is named only. */
export const DkimKeySchema = z.strictObject({
  selector: selectorName,
  keyType: z.enum(DKIM_KEY_TYPES),
  /** RSA modulus length in bits; absent for ed25519 (always 256). */
  keySize: z.number().int().min(1024).max(4096).optional(),
  /** The base64 `p=` value: SubjectPublicKeyInfo DER for RSA, the raw 32-byte key for ed25519 (RFC 8463 §4.2). */
  publicKey: z.string().regex(/^[A-Za-z0-9+/]+=*$/, { message: "not a base64 public key" }),
  /** The secret holding the PEM private key, e.g. `dkim/contoso.com/relay1`. */
  secretName: z.string().regex(/^[A-Za-z0-9._/-]+$/, {
    message: "not a secret name; use letters, digits, '.', '_', '-' and '/'",
  }),
  createdAt: z.string().optional(),
});
export type DkimKey = z.infer<typeof DkimKeySchema>;

/*
 * Modelled on Exchange Online's DkimSigningConfig: `enabled` switches signing for the domain;
 * `keys` sign every message (one RSA key, plus an ed25519 key when dual signing, RFC 8463 §3);
 * `retiredKeys` are the keys a rotation replaced: they no longer sign but stay published, so mail
 * signed just before the rotation still verifies, until the admin removes them.
 */
export const DkimSigningConfigSchema = z.strictObject({
  kind: z.literal("DkimSigningConfig"),
  domain: domainName,
  enabled: z.boolean().default(true),
  keys: z
    .array(DkimKeySchema)
    .min(1, {
      message:
        "a signing config needs at least one key; create one with `relay dkim-signing-config new`",
    })
    .refine((keys) => new Set(keys.map((k) => k.keyType)).size === keys.length, {
      message: "at most one signing key per key type (one rsa, one ed25519)",
    }),
  retiredKeys: z.array(DkimKeySchema).default([]),
  comment: z.string().optional(),
  ...recordMeta,
});
export type DkimSigningConfig = z.infer<typeof DkimSigningConfigSchema>;
