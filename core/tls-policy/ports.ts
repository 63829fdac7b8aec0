// Ports of outbound TLS policy: the MTA-STS policy cache all deliver invocations share, and the DNS/HTTPS lookups.
import type { TlsaAnswer } from "./dane.ts";
import type { CachedMtaStsPolicy } from "./mta-sts.ts";

/**
 * MTA-STS policies per recipient domain, shared by every deliver invocation (DynamoDB in AWS,
 * SQLite locally) so one fetch serves the fleet until max_age. `put` replaces the domain's entry;
 * `get` returns undefined when there is none. Domains are compared case-insensitively.
 */
export interface MtaStsPolicyStore {
  get(domain: string): Promise<CachedMtaStsPolicy | undefined>;
  put(policy: CachedMtaStsPolicy): Promise<void>;
}

/** The `_mta-sts.<domain>` TXT lookup: the record's strings, or why there is none. */
export type MtaStsTxtAnswer =
  | { kind: "records"; txts: string[] }
  | { kind: "none" }
  | { kind: "failed"; reason: string };

/** The HTTPS fetch of the policy file: its text, or which RFC 8461 §3.3 check failed. */
export type MtaStsFetchResult = { ok: true; text: string } | { ok: false; reason: string };

/**
 * Network side of MTA-STS and DANE. Never rejects: failures come back as values, because a
 * policy that cannot be read is a decision input (RFC 8461 §5.1 keeps a cached policy then).
 */
export interface TlsPolicyLookups {
  mtaStsTxt(domain: string, servers?: string[]): Promise<MtaStsTxtAnswer>;
  /** GET https://mta-sts.<domain>/.well-known/mta-sts.txt with the RFC's limits. */
  fetchMtaStsPolicy(domain: string, servers?: string[]): Promise<MtaStsFetchResult>;
  /**
   * RFC 7672 §2.2.1: whether the domain's MX RRset (or its authenticated absence, for an implicit
   * MX) was validated; an insecure MX RRset names hosts an attacker may have chosen, so no DANE.
   */
  mxSecure(domain: string, servers?: string[]): Promise<boolean>;
  /** TLSA of `_25._tcp.<host>` from a resolver trusted to validate DNSSEC (reads the AD bit). */
  tlsa(host: string, servers?: string[]): Promise<TlsaAnswer>;
}
