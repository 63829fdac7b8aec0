// The MTA-STS policy of a recipient domain: TXT id first, then the shared cache, then an HTTPS fetch (RFC 8461 §3.3, §5.1).
import type { Log } from "../log.ts";
import {
  type CachedMtaStsPolicy,
  isPolicyFresh,
  parseMtaStsPolicy,
  parseMtaStsRecord,
} from "./mta-sts.ts";
import type { MtaStsPolicyStore, TlsPolicyLookups } from "./ports.ts";

export type MtaStsState =
  | { kind: "policy"; policy: CachedMtaStsPolicy; source: "cache" | "fetched" }
  | { kind: "none"; why: string };

export interface MtaStsDeps {
  lookups: TlsPolicyLookups;
  store: MtaStsPolicyStore;
  log: Log;
}

/**
 * RFC 8461 §5.1: a cached policy that has not reached max_age is used while the TXT id is
 * unchanged, and also when the TXT record disappears or a refresh fails, so an attacker who
 * blocks the lookups cannot downgrade a domain the relay already knows. A new TXT id means a new
 * policy: fetch it (§3.3). Without a usable cached policy, a failure means "no policy".
 */
export async function mtaStsPolicyOf(
  deps: MtaStsDeps,
  domain: string,
  servers: string[] | undefined,
  now: Date,
): Promise<MtaStsState> {
  const cached = await deps.store.get(domain).catch((error: unknown) => {
    deps.log.warn("MTA-STS policy cache unreadable", { domain, error: String(error) });
    return undefined;
  });
  const fresh = cached && isPolicyFresh(cached, now) ? cached : undefined;
  const keep = (why: string): MtaStsState =>
    fresh ? { kind: "policy", policy: fresh, source: "cache" } : { kind: "none", why };

  const txt = await deps.lookups.mtaStsTxt(domain, servers);
  if (txt.kind === "none") return keep(`no _mta-sts.${domain} TXT record`);
  if (txt.kind === "failed") return keep(`_mta-sts.${domain} TXT lookup failed: ${txt.reason}`);
  const record = parseMtaStsRecord(txt.txts);
  if (!record.ok) return keep(`_mta-sts.${domain}: ${record.reason}`);
  if (fresh && fresh.id === record.id) return { kind: "policy", policy: fresh, source: "cache" };

  const fetched = await deps.lookups.fetchMtaStsPolicy(domain, servers);
  const parsed = fetched.ok ? parseMtaStsPolicy(fetched.text) : fetched;
  if (!parsed.ok) {
    deps.log.warn("MTA-STS policy fetch failed", { domain, id: record.id, reason: parsed.reason });
    return keep(`MTA-STS policy of ${domain} (id ${record.id}) unavailable: ${parsed.reason}`);
  }
  const policy: CachedMtaStsPolicy = {
    ...parsed.policy,
    domain: domain.toLowerCase(),
    id: record.id,
    fetchedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + parsed.policy.maxAgeSeconds * 1000).toISOString(),
  };
  await deps.store.put(policy).catch((error: unknown) => {
    deps.log.warn("MTA-STS policy cache not written", { domain, error: String(error) });
  });
  deps.log.info("MTA-STS policy fetched", { domain, id: policy.id, mode: policy.mode });
  return { kind: "policy", policy, source: "fetched" };
}
