// `relay doctor`'s checks: each looks at one thing that usually breaks mail flow and says OK, WARN or FAIL with the fix.
//
// A check is data plus one function over DoctorEnv, so a new one is one more entry in CHECKS.
import { X509Certificate } from "node:crypto";
import { dkim } from "./dkim-check.ts";
import { mtaSts, ptr, spf } from "./dns-checks.ts";
import { bad, type DoctorCheck, type Finding, ok } from "./types.ts";

export type { DoctorDns, DoctorEnv, Finding } from "./types.ts";

const records: DoctorCheck = {
  id: "records",
  title: "Records",
  async run({ set }) {
    if (set.problems.length === 0)
      return [
        ok(
          "records",
          "all",
          `${set.sendConnectors.length} send connector(s), ${set.receiveConnectors.length} receive connector(s), ${set.acceptedDomains.length} accepted domain(s), ${set.smtpUsers.length} user(s), all valid`,
        ),
      ];
    return set.problems.map((p) =>
      bad(
        "records",
        p.record,
        "FAIL",
        `${p.field ? `${p.field}: ` : ""}${p.message}`,
        "the relay skips this record until it is fixed: change it with relay <noun> set (relay records validate lists every problem)",
      ),
    );
  },
};

const port25: DoctorCheck = {
  id: "outbound",
  title: "Outbound SMTP",
  async run({ set, dns, probeDomain, connect, runtime }) {
    const where =
      runtime === "aws"
        ? " from this machine (the Deliver function leaves through the NAT gateways)"
        : "";
    const targets = new Map<string, { host: string; port: number; why: string }>();
    for (const c of set.sendConnectors.filter((x) => x.enabled)) {
      if (c.dnsRoutingEnabled) {
        const mx = (await dns.mx(probeDomain).catch((): string[] => []))[0];
        const key = `${mx ?? probeDomain}:${c.port}`;
        if (mx)
          targets.set(key, { host: mx, port: c.port, why: `an MX of ${probeDomain} (${c.name})` });
        else targets.set(key, { host: "", port: c.port, why: `no MX found for ${probeDomain}` });
      } else
        for (const sh of c.smartHosts) {
          const [host, p] = sh.startsWith("[")
            ? [sh.slice(1, sh.indexOf("]")), sh.split("]:")[1]]
            : sh.split(":");
          const port = p ? Number(p) : c.port;
          targets.set(`${host}:${port}`, {
            host: host ?? sh,
            port,
            why: `smart host of ${c.name}`,
          });
        }
    }
    if (targets.size === 0)
      return [
        bad(
          "outbound",
          "send connectors",
          "WARN",
          "no enabled send connector",
          'relay send-connector new --name "To Internet" --address-spaces "*;1"',
        ),
      ];
    const out: Finding[] = [];
    for (const t of targets.values()) {
      const subject = `${t.host || probeDomain}:${t.port}`;
      if (!t.host) {
        out.push(
          bad(
            "outbound",
            subject,
            "WARN",
            t.why,
            "pass --probe-domain with a domain that has MX records, or --dns-servers",
          ),
        );
        continue;
      }
      try {
        // The address from the DNS servers doctor asks (--dns-servers), as the relay's delivery would.
        const ip = /^[\d.]+$|:/.test(t.host)
          ? t.host
          : ((await dns.a(t.host))[0] ?? (await dns.aaaa(t.host))[0]);
        if (!ip) throw new Error(`${t.host} has no A or AAAA record`);
        await connect(ip, t.port);
        out.push(ok("outbound", subject, `TCP connect to ${t.why} works${where}`));
      } catch (error) {
        out.push(
          bad(
            "outbound",
            subject,
            "FAIL",
            `cannot connect to ${t.why}${where}: ${(error as Error).message}`,
            t.port === 25
              ? "outbound port 25 is blocked: AWS blocks it until you request removal (EC2 'Request to remove email sending limitations'); or deliver through a smart host on 587"
              : "check the smart host's name and port, and the firewall",
          ),
        );
      }
    }
    return out;
  },
};

const certificate: DoctorCheck = {
  id: "tls",
  title: "The listener's TLS certificate",
  async run({ certificate: load }) {
    const cert = await load().catch((e: Error) => ({
      source: "certificate",
      pem: "",
      error: e.message,
    }));
    if (!cert)
      return [
        bad(
          "tls",
          "certificate",
          "WARN",
          "no certificate found: the relay makes a self-signed one when it starts",
          "set RELAY_TLS_CERT and RELAY_TLS_KEY to a CA-issued certificate, or pass --tls-cert",
        ),
      ];
    if ("error" in cert)
      return [
        bad("tls", cert.source, "FAIL", cert.error, "check that the certificate can be read"),
      ];
    let x: X509Certificate;
    try {
      x = new X509Certificate(cert.pem);
    } catch (error) {
      return [
        bad(
          "tls",
          cert.source,
          "FAIL",
          `not a PEM certificate: ${(error as Error).message}`,
          "use a PEM file starting -----BEGIN CERTIFICATE-----",
        ),
      ];
    }
    const expires = new Date(x.validTo);
    const days = Math.floor((expires.getTime() - Date.now()) / 86_400_000);
    const renew =
      "renew the certificate and restart the listener (local: RELAY_TLS_CERT; AWS: the <prefix>tls secret)";
    if (days < 0)
      return [
        bad(
          "tls",
          cert.source,
          "FAIL",
          `expired ${expires.toISOString()}: clients that require TLS fail`,
          renew,
        ),
      ];
    if (days < 21)
      return [
        bad(
          "tls",
          cert.source,
          "WARN",
          `expires in ${days} day(s), ${expires.toISOString()}`,
          renew,
        ),
      ];
    if (x.issuer === x.subject)
      return [
        bad(
          "tls",
          cert.source,
          "WARN",
          `self-signed (${x.subject.replace(/\n/g, ", ")}), expires in ${days} days`,
          "clients that verify certificates refuse it: use a CA-issued certificate",
        ),
      ];
    return [ok("tls", cert.source, `expires in ${days} days, ${expires.toISOString()}`)];
  },
};

const deadLetters: DoctorCheck = {
  id: "dead-letters",
  title: "Dead-letter queues",
  async run({ poisonCount }) {
    const n = await poisonCount();
    if (n === undefined)
      return [
        bad(
          "dead-letters",
          "Poison",
          "WARN",
          "dead-letter depth unknown",
          "with --aws pass --stack, or --submission-dlq-url and --delivery-dlq-url",
        ),
      ];
    if (n === 0) return [ok("dead-letters", "Poison", "no dead letters")];
    return [
      bad(
        "dead-letters",
        "Poison",
        "WARN",
        `${n} message(s) in the dead-letter queues: the relay gave up on them`,
        "look: relay message get --queue Poison; after fixing the cause: relay queue retry",
      ),
    ];
  },
};

/** Every check, in the order of the report. */
export const CHECKS: DoctorCheck[] = [
  records,
  ptr,
  spf,
  dkim,
  mtaSts,
  port25,
  certificate,
  deadLetters,
];
