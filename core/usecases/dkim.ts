// Use case: the DKIM signatures for one message, made with its From domain's signing config; never blocks mail.
import { DKIM_SIGNED_HEADERS, fromDomain, signingConfigFor } from "../dkim/select.ts";
import { type Metrics, NO_METRICS } from "../metrics.ts";
import type { DkimSigner, DkimSigningKey, SecretStore } from "../ports.ts";
import type { RecordSet } from "../records/record-set.ts";
import { headerBlock, headerField } from "./body.ts";
import { SILENT_LOG, type UseCaseLog } from "./deps.ts";

/** What signing needs from a runtime: the signer, the secret store holding the private keys, and MIME conversion. */
export interface DkimDeps {
  signer: DkimSigner;
  secrets: SecretStore;
  /**
   * The message with its 8-bit MIME content re-encoded as 7-bit (quoted-printable or base64), or
   * undefined when it cannot be (8-bit header fields). Injected: the encoders live in an adapter.
   */
  to7bit(raw: Uint8Array): Uint8Array | undefined;
}

export interface DkimSignInput {
  messageId: string;
  receivedAt: string;
  /** Reads the raw message; called only when some config is enabled (a claim-checked body is fetched). */
  read(): Promise<Uint8Array>;
  /** The message needs SMTPUTF8: it only goes to hops that take 8-bit (RFC 6531 §3.1), so it is signed as it is. */
  smtpUtf8?: boolean;
}

export type DkimSignResult =
  | {
      signed: true;
      domain: string;
      selectors: string[];
      signatures: string;
      failures: string[];
      /** The 7-bit form that was signed, when the message had 8-bit content: it must be sent instead. */
      converted?: Uint8Array;
    }
  | { signed: false; domain?: string; failures: string[] };

/**
 * Signs with every key of the config that covers the From domain. A key that cannot be read or
 * used is skipped with a warning and a `DkimSignFailed` count: the message then goes with the
 * signatures that could be made, or unsigned, like Exchange Online when a key is unusable; DKIM
 * failing never holds mail back. `t=` is the time the relay received the message, so signing the
 * same message again (a redelivered route) gives the same bytes: RSA PKCS#1 v1.5 and Ed25519
 * signatures are deterministic.
 */
export async function signMessage(
  deps: { dkim?: DkimDeps; log?: UseCaseLog; metrics?: Metrics },
  set: RecordSet,
  input: DkimSignInput,
): Promise<DkimSignResult> {
  if (!deps.dkim || !set.dkimSigningConfigs.some((c) => c.enabled))
    return { signed: false, failures: [] };
  const raw = await input.read();
  // The header block is at the start; a 35 MB body need not be decoded to find it.
  const domain = fromDomain(headerField(headerBlock(raw.subarray(0, 1 << 20)), "From"));
  const config = signingConfigFor(domain, set.dkimSigningConfigs);
  if (!config) return { signed: false, ...(domain ? { domain } : {}), failures: [] };
  const failures: string[] = [];
  const keys: DkimSigningKey[] = [];
  for (const key of config.keys) {
    try {
      const privateKey = await deps.dkim.secrets.get(key.secretName);
      keys.push({ domain: config.domain, selector: key.selector, privateKey });
    } catch (error) {
      failures.push(
        `selector ${key.selector}: secret ${key.secretName} could not be read: ${(error as Error).message}`,
      );
    }
  }
  /*
   * RFC 6376 §5.3: a message that may be converted in transit is signed in its 7-bit form, or a
   * hop without 8BITMIME would make the courier re-encode it and break the body hash. Converted
   * whatever the next hops offer: they are not known until delivery, and a retry may go to another.
   */
  const converted =
    keys.length && !input.smtpUtf8 && raw.some((b) => b > 0x7f) ? deps.dkim.to7bit(raw) : undefined;
  let signatures = "";
  if (keys.length) {
    try {
      const out = await deps.dkim.signer.sign(converted ?? raw, keys, {
        headers: DKIM_SIGNED_HEADERS,
        signTime: new Date(input.receivedAt),
      });
      signatures = out.signatures;
      for (const e of out.errors) failures.push(`selector ${e.selector}: ${e.message}`);
    } catch (error) {
      failures.push(`signing failed: ${(error as Error).message}`);
    }
  }
  if (failures.length) {
    (deps.metrics ?? NO_METRICS).count("DkimSignFailed", { domain: config.domain });
    (deps.log ?? SILENT_LOG).warn("DKIM signing failed for a key", {
      messageId: input.messageId,
      domain: config.domain,
      failures,
      outcome: signatures ? "signed with the other keys" : "sent unsigned",
    });
  }
  if (!signatures) return { signed: false, domain: config.domain, failures };
  return {
    signed: true,
    domain: config.domain,
    selectors: keys.map((k) => k.selector),
    signatures,
    failures,
    ...(converted ? { converted } : {}),
  };
}
