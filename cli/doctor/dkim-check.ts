// `relay doctor`'s DKIM check: per sender domain, whether its signing key can sign and receivers find the matching record.

import { dkimRecordName } from "#core/dkim/dns-record.ts";
import { dkimProblems, type TxtLookup } from "#core/dkim/doctor.ts";
import { signingConfigFor } from "#core/dkim/select.ts";
import type { DkimSigningConfig } from "#core/records/dkim-signing-config.ts";
import { bad, type DoctorCheck, type DoctorDns, type Finding, ok, senderDomains } from "./types.ts";

/**
 * The doctor's TXT lookup in the shape dkimProblems wants. An empty answer (NXDOMAIN, NODATA) is
 * "no record"; a timeout or SERVFAIL says nothing about the record (a receiver would retry, RFC
 * 6376 §6.1.2 TEMPFAIL), so those names are remembered and reported as WARN, not FAIL.
 */
function txtLookup(dns: DoctorDns, unanswered: Map<string, string>): TxtLookup {
  return async (name) => {
    let found: string[];
    try {
      found = await dns.txt(name);
    } catch (error) {
      unanswered.set(name, (error as Error).message);
      throw error;
    }
    if (found.length === 0) throw new Error("no such record");
    return found.map((text) => [text]);
  };
}

const cmd = (verb: string, domain: string) =>
  `relay dkim-signing-config ${verb} --domain ${domain}`;

const signingSummary = (c: DkimSigningConfig) =>
  c.keys.map((k) => `${k.selector} (${k.keyType})`).join(", ") +
  (c.retiredKeys.length ? `; ${c.retiredKeys.length} retired key(s) still published` : "");

/** The fix for a domain's failures: a bad secret needs a new pair, a bad record the printed one. */
function failureFix(domain: string, checks: Set<string>): string {
  const fixes: string[] = [];
  if (checks.has("secret"))
    fixes.push(
      `make a new key pair: ${cmd("rotate", domain)}, then publish the record it prints (until then mail from ${domain} goes unsigned)`,
    );
  if (checks.has("dns"))
    fixes.push(
      `publish the TXT record(s) shown by ${cmd("get", domain)} at your DNS host, exactly as printed`,
    );
  return fixes.join("; ");
}

export const dkim: DoctorCheck = {
  id: "dkim",
  title: "DKIM signing of the sender domains",
  async run({ set, secrets, dns }) {
    const configs = set.dkimSigningConfigs;
    const unanswered = new Map<string, string>();
    const problems = await dkimProblems(configs, secrets, txtLookup(dns, unanswered));
    const out: Finding[] = [];
    for (const config of [...configs].sort((a, b) => a.domain.localeCompare(b.domain))) {
      const { domain } = config;
      if (!config.enabled) {
        const parent = signingConfigFor(domain, configs);
        out.push(
          bad(
            "dkim",
            domain,
            "WARN",
            parent
              ? `signing disabled: mail from ${domain} is signed as ${parent.domain}`
              : `signing disabled: mail from ${domain} goes unsigned, so DMARC rests on SPF alone`,
            `${cmd("set", domain)} --enabled true`,
          ),
        );
        continue;
      }
      const mine = problems.filter((p) => p.domain === domain);
      const timedOut = mine.filter(
        (p) => p.check === "dns" && unanswered.has(dkimRecordName(p.selector, domain)),
      );
      const failed = mine.filter((p) => !timedOut.includes(p));
      if (failed.length)
        out.push(
          bad(
            "dkim",
            domain,
            "FAIL",
            failed.map((p) => p.message).join("; "),
            failureFix(domain, new Set(failed.map((p) => p.check))),
          ),
        );
      else if (timedOut.length)
        out.push(
          bad(
            "dkim",
            domain,
            "WARN",
            timedOut
              .map((p) => dkimRecordName(p.selector, domain))
              .map((name) => `could not look up ${name}: ${unanswered.get(name)}`)
              .join("; "),
            "run again; check --dns-servers",
          ),
        );
      else
        out.push(
          ok(
            "dkim",
            domain,
            `signing with ${signingSummary(config)}; record published and matching`,
          ),
        );
    }
    const configured = new Set(configs.map((c) => c.domain));
    for (const domain of senderDomains(set)) {
      if (configured.has(domain)) continue;
      // A parent's config signs subdomains (DMARC relaxed alignment, RFC 7489 §3.1.1).
      const parent = signingConfigFor(domain, configs);
      if (parent) out.push(ok("dkim", domain, `signed as ${parent.domain} (relaxed alignment)`));
      else
        out.push(
          bad(
            "dkim",
            domain,
            "WARN",
            "no DKIM signing config: mail from it goes unsigned, so DMARC rests on SPF alone (Gmail and Yahoo require DKIM of bulk senders)",
            `${cmd("new", domain)}, then publish the TXT record it prints`,
          ),
        );
    }
    return out;
  },
};
