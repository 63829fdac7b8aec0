// `relay resolve-mx domain [--dns-servers ip[:port],...]`: the MX hosts in preference order with their addresses (Resolve-DnsName -Type MX).
import { NodeDnsResolver } from "#adapters/dns/resolver.ts";
import { DnsError } from "#core/errors.ts";
import type { MxRecord } from "#core/ports.ts";
import { isDomainName, isIpv4, isIpv6, parseHostPort } from "#core/records/common.ts";
import { list, parseCommand, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { type Out, printTable } from "../output.ts";
import { verbOptions } from "./table.ts";

export type MxLookup =
  | "mx"
  | "implicit-mx"
  | "null-mx"
  | "nxdomain"
  | "no-address"
  | "temporary-failure";

interface MxHost {
  preference: number;
  exchange: string;
  addresses: string[];
  error?: string;
}

function servers(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const all = list(value);
  for (const s of all) {
    const hp = parseHostPort(s);
    if (!hp || !(isIpv4(hp.host) || isIpv6(hp.host)))
      throw new UsageError(
        `--dns-servers: "${s}" is not an IP address; use "10.0.0.2", "10.0.0.2:53" or "[2001:db8::2]:53"`,
      );
  }
  return all.length ? all : undefined;
}

export async function resolveMxCommand(
  _ctx: CliContext,
  out: Out,
  args: string[],
): Promise<number> {
  const { flags, positionals } = parseCommand("resolve-mx", args, verbOptions("resolve-mx", ""), 1);
  out.json = flags.json === true;
  const domain = (positionals[0] ?? "").trim().replace(/\.$/, "").toLowerCase();
  if (!domain)
    throw new UsageError(
      "relay resolve-mx: the domain is required, e.g. relay resolve-mx contoso.com",
    );
  if (!isDomainName(domain))
    throw new UsageError(`relay resolve-mx: "${positionals[0]}" is not a domain name`);
  const dnsServers = servers(str(flags, "dns-servers"));
  const dns = new NodeDnsResolver();

  let lookup: MxLookup = "mx";
  let records: MxRecord[] = [];
  let message = "";
  try {
    records = await dns.resolveMx(domain, dnsServers);
  } catch (error) {
    const kind = error instanceof DnsError ? error.kind : "temporary";
    if (kind === "notFound") lookup = "nxdomain";
    else if (kind === "noData") {
      // RFC 5321 §5.1: without MX records the domain itself is the mail host.
      lookup = "implicit-mx";
      records = [{ exchange: domain, priority: 0 }];
    } else {
      lookup = "temporary-failure";
      message = (error as Error).message;
    }
  }
  const real = records.filter((r) => r.exchange !== ".");
  if (lookup === "mx" && real.length === 0) lookup = "null-mx";
  const hosts: MxHost[] = [];
  for (const r of real.sort(
    (a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange),
  )) {
    const host: MxHost = { preference: r.priority, exchange: r.exchange, addresses: [] };
    try {
      host.addresses = await dns.resolveAddresses(r.exchange, dnsServers);
    } catch (error) {
      host.error = (error as Error).message;
    }
    hosts.push(host);
  }
  if ((lookup === "mx" || lookup === "implicit-mx") && hosts.every((h) => h.addresses.length === 0))
    lookup = "no-address";

  const says: Record<MxLookup, string> = {
    mx: `${domain}: ${hosts.length} MX record(s) in preference order (equal preferences are tried in random order)`,
    "implicit-mx": `${domain}: no MX records; mail goes to the domain's own address (implicit MX, RFC 5321 §5.1)`,
    "null-mx": `${domain}: null MX ("MX 0 ."): the domain accepts no mail (RFC 7505); mail to it is bounced at once`,
    nxdomain: `${domain}: the domain does not exist (NXDOMAIN); mail to it is bounced at once`,
    "no-address": `${domain}: no MX host has an address; delivery is retried until the message expires`,
    "temporary-failure": `${domain}: DNS lookup failed (${message}); delivery is retried`,
  };
  if (out.json) {
    out.write(
      `${JSON.stringify({ domain, result: lookup, ...(dnsServers ? { dnsServers } : {}), mx: hosts, message: says[lookup] }, null, 2)}\n`,
    );
  } else {
    out.write(`${says[lookup]}\n`);
    if (hosts.length) {
      out.write("\n");
      printTable(
        out,
        hosts.map((h) => ({
          Preference: h.preference,
          Exchange: h.exchange,
          Addresses: h.addresses.length ? h.addresses : `(${h.error ?? "none"})`,
        })),
        ["Preference", "Exchange", "Addresses"],
      );
    }
  }
  // Exit 3 as for any name that does not exist; 1 when the domain exists but takes no mail now.
  if (lookup === "nxdomain") return 3;
  return lookup === "mx" || lookup === "implicit-mx" ? 0 : 1;
}
