// The DkimSigner port on mailauth's dkimSign: relaxed/relaxed, sha256, the whole body (no l=).
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { downgradeTo7bit } from "#adapters/mime/downgrade.ts";
import type { DkimSigner, DkimSigningKey, SecretStore } from "#core/ports.ts";
import type { DkimDeps } from "#core/usecases/dkim.ts";

/*
 * Only mailauth's signing module is loaded (not its SPF, DMARC and BIMI code with their HTTP
 * client), which keeps the route function's bundle and cold start small. The algorithm follows
 * each key's type: rsa-sha256, or ed25519-sha256 (RFC 8463) for an Ed25519 key.
 */
export class MailauthDkimSigner implements DkimSigner {
  async sign(
    raw: Uint8Array,
    keys: DkimSigningKey[],
    options: { headers: readonly string[]; signTime: Date },
  ) {
    const out = await dkimSign(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
      canonicalization: "relaxed/relaxed",
      headerList: [...options.headers],
      signTime: options.signTime,
      signatureData: keys.map((k) => ({
        signingDomain: k.domain,
        selector: k.selector,
        privateKey: k.privateKey,
      })),
    } as Parameters<typeof dkimSign>[1]);
    return {
      signatures: out.signatures,
      errors: (out.errors ?? []).map((e) => ({
        domain: String(e.signingDomain ?? ""),
        selector: String(e.selector ?? ""),
        message: e.err instanceof Error ? e.err.message : String(e.err),
      })),
    };
  }
}

/** Route's DKIM in both runtimes: mailauth signs, keys come from `secrets`, 8-bit content is signed in its 7-bit form. */
export function mailauthDkim(secrets: SecretStore): DkimDeps {
  return { signer: new MailauthDkimSigner(), secrets, to7bit: downgradeTo7bit };
}
