// Where to connect for a next hop: MX hosts in preference order (implicit MX, null MX) or the connector's smart hosts.
import { DnsError } from "../errors.ts";
import type { NextHop } from "../message.ts";
import { networkFailure } from "../outcome.ts";
import type { DnsResolver, MxRecord } from "../ports.ts";
import { isIpv4, isIpv6, parseHostPort } from "../records/common.ts";
import type { SendConnector } from "../records/send-connector.ts";
import { REMOTE_PERMANENT, type SmtpReply } from "../replies.ts";

/** One SMTP server to try: the name (for LastError and TLS) and a resolved address. */
export interface Target {
  host: string;
  address: string;
  port: number;
}

export type TargetResult =
  | { ok: true; targets: Target[] }
  | { ok: false; status: "permanent" | "transient"; reply: SmtpReply; detail?: string };

const isIp = (host: string) => isIpv4(host) || isIpv6(host);

/**
 * RFC 5321 §5.1: MX records in ascending preference; records of equal preference in random order,
 * to spread the load. `random` is injectable so tests can fix the order.
 */
export function orderMx(records: MxRecord[], random: () => number = Math.random): MxRecord[] {
  const keyed = records.map((r) => ({ r, k: random() }));
  keyed.sort((a, b) => a.r.priority - b.r.priority || a.k - b.k);
  return keyed.map((x) => x.r);
}

const dnsTransient = (what: string, error: unknown): TargetResult => ({
  ok: false,
  status: "transient",
  ...networkFailure("dns", `${what}: ${error instanceof Error ? error.message : String(error)}`),
});

async function addressesOf(
  dns: DnsResolver,
  host: string,
  servers: string[] | undefined,
): Promise<string[]> {
  return isIp(host) ? [host] : dns.resolveAddresses(host, servers);
}

async function mxTargets(
  dns: DnsResolver,
  connector: SendConnector,
  domain: string,
  random: (() => number) | undefined,
): Promise<TargetResult> {
  const servers = connector.externalDnsServers.length ? connector.externalDnsServers : undefined;
  let records: MxRecord[];
  let implicit = false;
  try {
    records = await dns.resolveMx(domain, servers);
  } catch (error) {
    if (!(error instanceof DnsError) || error.kind === "temporary")
      return dnsTransient(`MX ${domain}`, error);
    if (error.kind === "notFound")
      return { ok: false, status: "permanent", reply: REMOTE_PERMANENT.nxDomain(domain) };
    // RFC 5321 §5.1: no MX records, so the domain itself is the implicit MX (preference 0).
    records = [{ exchange: domain, priority: 0 }];
    implicit = true;
  }
  const real = records.filter((r) => r.exchange !== "." && r.exchange !== "");
  // RFC 7505 §3: a lone "MX 0 ." says the domain accepts no mail; with other records it is ignored.
  if (real.length === 0)
    return { ok: false, status: "permanent", reply: REMOTE_PERMANENT.nullMx(domain) };
  const targets: Target[] = [];
  const failures: string[] = [];
  for (const mx of orderMx(real, random)) {
    try {
      for (const address of await addressesOf(dns, mx.exchange, servers))
        targets.push({ host: mx.exchange, address, port: connector.port });
    } catch (error) {
      // The domain has no MX and its own name has no address: nowhere to deliver, for good.
      if (implicit && error instanceof DnsError && error.kind !== "temporary")
        return { ok: false, status: "permanent", reply: REMOTE_PERMANENT.noMailHost(domain) };
      failures.push(`${mx.exchange}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (targets.length) return { ok: true, targets };
  // MX hosts that do not resolve may be a passing misconfiguration: retry until expiry.
  return dnsTransient(`no address for the MX hosts of ${domain}`, failures.join("; "));
}

async function smartHostTargets(
  dns: DnsResolver,
  connector: SendConnector,
  hosts: string[],
): Promise<TargetResult> {
  const servers = connector.externalDnsServers.length ? connector.externalDnsServers : undefined;
  const targets: Target[] = [];
  const failures: string[] = [];
  // Smart hosts are tried in the order listed (the first is the primary, as Exchange admins expect).
  for (const text of hosts) {
    const hp = parseHostPort(text);
    if (!hp) {
      failures.push(`${text}: not a host`);
      continue;
    }
    try {
      for (const address of await addressesOf(dns, hp.host, servers))
        targets.push({ host: hp.host, address, port: hp.port ?? connector.port });
    } catch (error) {
      failures.push(`${hp.host}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (targets.length) return { ok: true, targets };
  return dnsTransient("no smart host could be resolved", failures.join("; "));
}

export function resolveTargets(
  dns: DnsResolver,
  connector: SendConnector,
  nextHop: NextHop,
  random?: () => number,
): Promise<TargetResult> {
  return nextHop.type === "mx"
    ? mxTargets(dns, connector, nextHop.domain, random)
    : smartHostTargets(
        dns,
        connector,
        connector.smartHosts.length ? connector.smartHosts : nextHop.hosts,
      );
}
