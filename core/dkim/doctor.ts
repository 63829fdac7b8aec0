// DKIM health for `relay doctor`: configs whose private key is missing or wrong, or whose DNS record is absent or stale.
import type { SecretStore } from "../ports.ts";
import type { DkimKey, DkimSigningConfig } from "../records/dkim-signing-config.ts";
import { dkimRecordName, publishedPublicKey } from "./dns-record.ts";
import { publicKeyOfPrivate } from "./keys.ts";

export interface DkimProblem {
  domain: string;
  selector: string;
  /** "secret": the private key cannot sign; "dns": receivers cannot verify. */
  check: "secret" | "dns";
  message: string;
}

/**
 * A TXT lookup: the strings of each record at `name`; rejects when the name has none (any error
 * message is shown as is). Injected so core stays free of DNS.
 */
export type TxtLookup = (name: string) => Promise<string[][]>;

async function secretProblem(key: DkimKey, secrets: SecretStore): Promise<string | undefined> {
  let pem: string;
  try {
    pem = await secrets.get(key.secretName);
  } catch (error) {
    return `secret ${key.secretName} cannot be read (${(error as Error).message}); messages go unsigned until it is restored or the domain is rotated (relay dkim-signing-config rotate)`;
  }
  try {
    const derived = publicKeyOfPrivate(pem);
    if (derived.keyType !== key.keyType || derived.publicKey !== key.publicKey)
      return `secret ${key.secretName} holds a different key than the published record; rotate the domain to make a new pair`;
  } catch (error) {
    return `secret ${key.secretName} is not a private key (${(error as Error).message})`;
  }
  return undefined;
}

async function dnsProblem(
  domain: string,
  key: DkimKey,
  lookupTxt: TxtLookup,
): Promise<string | undefined> {
  const name = dkimRecordName(key.selector, domain);
  let records: string[][];
  try {
    records = await lookupTxt(name);
  } catch (error) {
    return `no TXT record at ${name} (${(error as Error).message}); publish the record shown by relay dkim-signing-config get`;
  }
  const keys = records.map(publishedPublicKey).filter((p) => p !== undefined);
  if (keys.length === 0) return `the TXT record at ${name} has no p= tag`;
  if (!keys.includes(key.publicKey))
    return `the TXT record at ${name} publishes a different public key; replace it with the record shown by relay dkim-signing-config get`;
  return undefined;
}

/**
 * Every problem of every config: keys that sign need a readable, matching secret and a published
 * record; retired keys need only the record (mail signed with them may still be in flight).
 * Disabled configs are skipped. Without `lookupTxt`, DNS is not checked.
 */
export async function dkimProblems(
  configs: DkimSigningConfig[],
  secrets: SecretStore,
  lookupTxt?: TxtLookup,
): Promise<DkimProblem[]> {
  const out: DkimProblem[] = [];
  for (const config of configs.filter((c) => c.enabled)) {
    const all = [
      ...config.keys.map((k) => ({ k, signing: true })),
      ...config.retiredKeys.map((k) => ({ k, signing: false })),
    ];
    for (const { k, signing } of all) {
      const base = { domain: config.domain, selector: k.selector };
      const secret = signing ? await secretProblem(k, secrets) : undefined;
      if (secret) out.push({ ...base, check: "secret", message: secret });
      const dns = lookupTxt ? await dnsProblem(config.domain, k, lookupTxt) : undefined;
      if (dns) out.push({ ...base, check: "dns", message: dns });
    }
  }
  return out;
}
