// `relay doctor`'s DNS checks: PTR of the egress IPs (forward-confirmed), SPF of the sender domains, MTA-STS records.
import { checkHost, spfRecord } from "./spf.ts";
import { bad, type DoctorCheck, type Finding, ok, senderDomains } from "./types.ts";

export const ptr: DoctorCheck = {
  id: "ptr",
  title: "Reverse DNS of the egress IPs",
  async run({ egressIps, egressSource, dns, set }) {
    if (egressIps.length === 0)
      return [
        bad(
          "ptr",
          "egress IPs",
          "WARN",
          "no egress IPs known, so PTR and SPF were not checked",
          egressSource,
        ),
      ];
    const hostName = set.settings.hostName?.toLowerCase();
    const out: Finding[] = [];
    for (const ip of egressIps) {
      const names = await dns.ptr(ip).catch((): string[] => []);
      const name = names[0]?.toLowerCase().replace(/\.$/, "");
      const fix = `ask the owner of ${ip} (AWS: the Elastic IP's reverse DNS, aws ec2 modify-address-attribute) for a PTR naming the relay${hostName ? ` (${hostName})` : ""}, with an A record back to ${ip}`;
      if (!name) {
        out.push(
          bad(
            "ptr",
            ip,
            "FAIL",
            "no PTR record: Gmail, Microsoft and Yahoo reject or junk mail from it",
            fix,
          ),
        );
        continue;
      }
      const back = await (ip.includes(":") ? dns.aaaa(name) : dns.a(name)).catch(
        (): string[] => [],
      );
      if (!back.includes(ip)) {
        out.push(
          bad(
            "ptr",
            ip,
            "FAIL",
            `PTR ${name} does not resolve back to ${ip} (not forward-confirmed)`,
            `add ${ip.includes(":") ? "AAAA" : "A"} ${name} → ${ip}`,
          ),
        );
        continue;
      }
      if (hostName && name !== hostName)
        out.push(
          bad(
            "ptr",
            ip,
            "WARN",
            `PTR ${name}, forward-confirmed, differs from the EHLO name ${hostName}`,
            `make them one name: relay transport-config set --host-name ${name}, or change the PTR`,
          ),
        );
      else out.push(ok("ptr", ip, `PTR ${name}, forward-confirmed`));
    }
    return out;
  },
};

export const spf: DoctorCheck = {
  id: "spf",
  title: "SPF of the sender domains",
  async run({ set, egressIps, dns }) {
    const domains = senderDomains(set);
    if (domains.length === 0)
      return [
        bad(
          "spf",
          "sender domains",
          "WARN",
          "no accepted domains, so no SPF to check",
          "relay accepted-domain new --domain contoso.com",
        ),
      ];
    const out: Finding[] = [];
    const spfText = `v=spf1 ${egressIps.map((ip) => `${ip.includes(":") ? "ip6" : "ip4"}:${ip}`).join(" ")} -all`;
    for (const domain of domains) {
      let found: { record?: string; error?: string };
      try {
        found = await spfRecord(dns, domain);
      } catch (e) {
        // A timeout or SERVFAIL says nothing about the record: receivers would see temperror.
        out.push(
          bad(
            "spf",
            domain,
            "WARN",
            `could not look up TXT: ${(e as Error).message}`,
            "run again; check --dns-servers",
          ),
        );
        continue;
      }
      const { record, error } = found;
      if (error) {
        out.push(
          bad("spf", domain, "FAIL", error, "publish exactly one TXT record starting v=spf1"),
        );
        continue;
      }
      if (!record) {
        out.push(
          bad(
            "spf",
            domain,
            "FAIL",
            "no SPF record: receivers treat its mail as unauthenticated",
            `add TXT "${egressIps.length ? spfText : "v=spf1 ip4:<egress IP> -all"}" at ${domain} (keep any include: other senders need)`,
          ),
        );
        continue;
      }
      if (egressIps.length === 0) {
        out.push(
          bad(
            "spf",
            domain,
            "WARN",
            `SPF "${record}"; egress IPs unknown, so coverage not checked`,
            "pass --egress-ip, or set relay transport-config set --egress-ips",
          ),
        );
        continue;
      }
      const missing: string[] = [];
      for (const ip of egressIps) {
        const r = await checkHost(dns, ip, domain);
        if (r.result === "permerror" || r.result === "temperror") {
          missing.push(`${ip} (${r.result}: ${r.reason})`);
        } else if (r.result !== "pass") missing.push(`${ip} (${r.result})`);
      }
      if (missing.length)
        out.push(
          bad(
            "spf",
            domain,
            "FAIL",
            `SPF "${record}" does not pass ${missing.join(", ")}`,
            `add ${egressIps.map((ip) => `${ip.includes(":") ? "ip6" : "ip4"}:${ip}`).join(" ")} to the SPF record of ${domain}`,
          ),
        );
      else out.push(ok("spf", domain, `SPF passes ${egressIps.join(", ")}`));
    }
    return out;
  },
};

export const mtaSts: DoctorCheck = {
  id: "mta-sts",
  title: "MTA-STS of the accepted domains",
  async run({ set, dns }) {
    const domains = [
      ...new Set(set.acceptedDomains.map((d) => d.domain.replace(/^\*\./, "").toLowerCase())),
    ];
    const out: Finding[] = [];
    for (const domain of domains) {
      const name = `_mta-sts.${domain}`;
      const txt = (await dns.txt(name).catch((): string[] => [])).filter((t) =>
        /^v=STSv1/i.test(t),
      );
      const fix = `publish TXT "v=STSv1; id=<yyyymmddNN>" at ${name} and the policy at https://mta-sts.${domain}/.well-known/mta-sts.txt (RFC 8461)`;
      if (txt.length === 0)
        out.push(
          bad(
            "mta-sts",
            domain,
            "WARN",
            "no MTA-STS record: senders to this domain may deliver without TLS",
            fix,
          ),
        );
      else if (txt.length > 1)
        out.push(
          bad(
            "mta-sts",
            domain,
            "FAIL",
            `${txt.length} MTA-STS records: senders ignore the policy (RFC 8461 §3.1)`,
            "keep exactly one v=STSv1 record",
          ),
        );
      else {
        const id = /(?:^|;)\s*id=([A-Za-z0-9]{1,32})\s*(?:;|$)/.exec(txt[0] ?? "")?.[1];
        if (!id)
          out.push(
            bad(
              "mta-sts",
              domain,
              "FAIL",
              `"${txt[0]}" has no valid id (1-32 letters or digits)`,
              fix,
            ),
          );
        else out.push(ok("mta-sts", domain, `MTA-STS policy id ${id}`));
      }
    }
    return out;
  },
};
