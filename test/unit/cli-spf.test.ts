// SPF evaluation for `relay doctor` (RFC 7208 check_host), table-driven over an in-memory zone: no network in unit tests.
import { describe, expect, test } from "vitest";
import { checkHost, type SpfDns } from "#cli/doctor/spf.ts";

const ZONE: Record<string, { TXT?: string[]; A?: string[]; AAAA?: string[]; MX?: string[] }> = {
  "contoso.com": {
    TXT: ["v=spf1 mx a:out.contoso.com include:_spf.isp.net ~all"],
    MX: ["mx.contoso.com"],
  },
  "mx.contoso.com": { A: ["192.0.2.10"] },
  "out.contoso.com": { A: ["192.0.2.20"], AAAA: ["2001:db8::20"] },
  "_spf.isp.net": { TXT: ["v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:100::/48 -all"] },
  "fabrikam.com": { TXT: ["v=spf1 redirect=_spf.fabrikam.com"] },
  "_spf.fabrikam.com": { TXT: ["v=spf1 ip4:203.0.113.5 -all"] },
  "two.test": { TXT: ["v=spf1 -all", "v=spf1 +all"] },
  "macro.test": { TXT: ["v=spf1 exists:%{i}.bl.test -all"] },
  "loop.test": { TXT: ["v=spf1 include:loop.test -all"] },
  "missing-include.test": { TXT: ["v=spf1 include:nowhere.test -all"] },
};

const dns: SpfDns = {
  txt: async (n) => ZONE[n]?.TXT ?? [],
  a: async (n) => ZONE[n]?.A ?? [],
  aaaa: async (n) => ZONE[n]?.AAAA ?? [],
  mx: async (n) => ZONE[n]?.MX ?? [],
};

describe("checkHost", () => {
  const cases: Array<[string, string, string, string]> = [
    ["mx mechanism", "192.0.2.10", "contoso.com", "pass"],
    ["a:host", "192.0.2.20", "contoso.com", "pass"],
    ["a:host over IPv6", "2001:db8::20", "contoso.com", "pass"],
    ["include: ip4 /24", "198.51.100.77", "contoso.com", "pass"],
    ["include: ip6 /48", "2001:db8:100::9", "contoso.com", "pass"],
    ["nothing matches: the outer ~all", "192.0.2.99", "contoso.com", "softfail"],
    ["redirect=", "203.0.113.5", "fabrikam.com", "pass"],
    ["redirect= to -all", "203.0.113.6", "fabrikam.com", "fail"],
    ["no record", "192.0.2.1", "nothing.test", "none"],
    ["two records (RFC 7208 §4.5)", "192.0.2.1", "two.test", "permerror"],
    ["macros are not evaluated, never passed", "192.0.2.1", "macro.test", "permerror"],
    ["an include loop hits the 10-lookup limit", "192.0.2.1", "loop.test", "permerror"],
    ["an include without a record (§5.2)", "192.0.2.1", "missing-include.test", "permerror"],
  ];
  for (const [name, ip, domain, result] of cases)
    test(`${name}: ${ip} at ${domain} → ${result}`, async () => {
      expect((await checkHost(dns, ip, domain)).result).toBe(result);
    });
});
