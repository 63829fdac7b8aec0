// Does a domain's SPF record authorise an IP? RFC 7208 check_host() for the mechanisms senders publish.
//
// Covers ip4, ip6, a, mx, include, redirect, exists-less records and `all` with qualifiers, the
// 10-lookup limit (§4.6.4) and the void-lookup limit (§4.6.4). Macros (§7) are not expanded: a
// record that uses them is reported as not checked, never as passing.
import ipaddr from "ipaddr.js";

export interface SpfDns {
  txt(name: string): Promise<string[]>;
  a(name: string): Promise<string[]>;
  aaaa(name: string): Promise<string[]>;
  mx(name: string): Promise<string[]>;
}

export type SpfResult =
  | { result: "pass" | "fail" | "softfail" | "neutral"; mechanism: string }
  | { result: "none" | "permerror" | "temperror"; reason: string };

const QUALIFIER: Record<string, "pass" | "fail" | "softfail" | "neutral"> = {
  "+": "pass",
  "-": "fail",
  "~": "softfail",
  "?": "neutral",
};

/** The one `v=spf1` record of a domain: none, or permerror when there are several (§4.5). */
export async function spfRecord(
  dns: SpfDns,
  domain: string,
): Promise<{ record?: string; error?: string }> {
  const records = (await dns.txt(domain)).filter((t) => /^v=spf1(\s|$)/i.test(t));
  if (records.length > 1) return { error: `${records.length} SPF records (RFC 7208 allows one)` };
  return records[0] ? { record: records[0] } : {};
}

function inCidr(ip: string, network: string, bits: number | undefined): boolean {
  try {
    const a = ipaddr.parse(ip);
    const b = ipaddr.parse(network);
    if (a.kind() !== b.kind()) return false;
    return a.match(b, bits ?? (a.kind() === "ipv4" ? 32 : 128));
  } catch {
    return false;
  }
}

class SpfError extends Error {
  override readonly name = "SpfError";
  readonly result: "permerror" | "temperror";
  constructor(result: "permerror" | "temperror", message: string) {
    super(message);
    this.result = result;
  }
}

export async function checkHost(dns: SpfDns, ip: string, domain: string): Promise<SpfResult> {
  const budget = { lookups: 0, voids: 0 };
  try {
    return await evaluate(dns, ip, domain, budget, 0);
  } catch (error) {
    if (error instanceof SpfError) return { result: error.result, reason: error.message };
    return { result: "temperror", reason: (error as Error).message };
  }
}

async function lookup<T>(budget: { lookups: number; voids: number }, run: () => Promise<T[]>) {
  if (++budget.lookups > 10)
    throw new SpfError("permerror", "more than 10 DNS lookups (RFC 7208 §4.6.4)");
  const found = await run();
  if (found.length === 0 && ++budget.voids > 2)
    throw new SpfError("permerror", "more than 2 lookups found nothing (RFC 7208 §4.6.4)");
  return found;
}

async function evaluate(
  dns: SpfDns,
  ip: string,
  domain: string,
  budget: { lookups: number; voids: number },
  depth: number,
): Promise<SpfResult> {
  const { record, error } = await spfRecord(dns, domain);
  if (error) throw new SpfError("permerror", `${domain}: ${error}`);
  if (!record) {
    if (depth > 0) throw new SpfError("permerror", `${domain} (included) has no SPF record`);
    return { result: "none", reason: `${domain} has no SPF record` };
  }
  if (record.includes("%"))
    throw new SpfError("permerror", `${domain}: macros (%{...}) are not checked here`);
  const v6 = ip.includes(":");
  let redirect: string | undefined;
  for (const term of record.split(/\s+/).slice(1)) {
    if (term === "") continue;
    if (/^redirect=/i.test(term)) {
      redirect = term.slice(9);
      continue;
    }
    if (/^[a-z-]+=/i.test(term)) continue; // exp= and unknown modifiers (§6)
    const m = /^([+\-~?]?)([a-z0-9]+)(?::([^/]+))?(?:\/(\d+))?(?:\/\/(\d+))?$/i.exec(term);
    if (!m) throw new SpfError("permerror", `${domain}: cannot read the term "${term}"`);
    const qualifier = QUALIFIER[m[1] || "+"] ?? "pass";
    const name = (m[2] ?? "").toLowerCase();
    const target = m[3] ?? domain;
    const bits = v6 ? (m[5] ?? m[4]) : m[4];
    const cidr = bits === undefined ? undefined : Number(bits);
    const hit = { result: qualifier, mechanism: `${term} in ${domain}` } as const;
    switch (name) {
      case "all":
        return hit;
      case "ip4":
      case "ip6":
        if (inCidr(ip, target === domain ? "" : target, cidr)) return hit;
        break;
      case "a": {
        const addrs = await lookup(budget, () => (v6 ? dns.aaaa(target) : dns.a(target)));
        if (addrs.some((a) => inCidr(ip, a, cidr))) return hit;
        break;
      }
      case "mx": {
        const hosts = await lookup(budget, () => dns.mx(target));
        for (const h of hosts.slice(0, 10)) {
          const addrs = await (v6 ? dns.aaaa(h) : dns.a(h));
          if (addrs.some((a) => inCidr(ip, a, cidr))) return hit;
        }
        break;
      }
      case "include": {
        if (++budget.lookups > 10)
          throw new SpfError("permerror", "more than 10 DNS lookups (RFC 7208 §4.6.4)");
        const inner = await evaluate(dns, ip, target, budget, depth + 1);
        if (inner.result === "pass")
          return { result: qualifier, mechanism: `${term} in ${domain}` };
        if (inner.result === "permerror" || inner.result === "temperror") return inner;
        break;
      }
      case "ptr":
      case "exists":
        throw new SpfError(
          "permerror",
          `${domain}: "${name}" is not checked here (RFC 7208 §5.5 advises against ptr)`,
        );
      default:
        throw new SpfError("permerror", `${domain}: unknown mechanism "${name}"`);
    }
  }
  if (redirect) {
    if (++budget.lookups > 10)
      throw new SpfError("permerror", "more than 10 DNS lookups (RFC 7208 §4.6.4)");
    return evaluate(dns, ip, redirect, budget, depth + 1);
  }
  return { result: "neutral", mechanism: `no mechanism matched in ${domain}` };
}
