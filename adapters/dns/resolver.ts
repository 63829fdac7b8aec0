// The DnsResolver port on node:dns/promises, honouring a send connector's own DNS servers ("ip" or "ip:port").
import { Resolver } from "node:dns/promises";
import { DnsError, type DnsErrorKind } from "#core/errors.ts";
import type { DnsResolver, MxRecord } from "#core/ports.ts";

export interface NodeDnsResolverOptions {
  /** Per-try timeout in milliseconds (c-ares doubles it on each retry). Default 2000. */
  timeoutMs?: number;
  /** Tries per server before giving up. Default 2. */
  tries?: number;
}

/**
 * c-ares codes: ENOTFOUND is NXDOMAIN; ENODATA is a name without records of that type; anything
 * else (ESERVFAIL, ETIMEOUT, EREFUSED, ECONNREFUSED…) may pass, so it is temporary (maddy: an
 * unknown error counts as temporary).
 */
export function dnsErrorKind(code: unknown): DnsErrorKind {
  if (code === "ENOTFOUND") return "notFound";
  if (code === "ENODATA") return "noData";
  return "temporary";
}

function toDnsError(error: unknown, what: string): DnsError {
  const code = (error as { code?: unknown }).code;
  return new DnsError(dnsErrorKind(code), `${what}: ${String(code ?? error)}`);
}

export class NodeDnsResolver implements DnsResolver {
  readonly #options: Required<NodeDnsResolverOptions>;
  readonly #resolvers = new Map<string, Resolver>();

  constructor(options: NodeDnsResolverOptions = {}) {
    this.#options = { timeoutMs: options.timeoutMs ?? 2000, tries: options.tries ?? 2 };
  }

  #resolver(servers: string[] | undefined): Resolver {
    const key = servers?.join(",") ?? "";
    let r = this.#resolvers.get(key);
    if (!r) {
      r = new Resolver({ timeout: this.#options.timeoutMs, tries: this.#options.tries });
      // setServers takes "ip", "ip:port" and "[ipv6]:port", the forms the connector schema allows.
      if (servers?.length) r.setServers(servers);
      this.#resolvers.set(key, r);
    }
    return r;
  }

  async resolveMx(domain: string, servers?: string[]): Promise<MxRecord[]> {
    let records: MxRecord[];
    try {
      records = await this.#resolver(servers).resolveMx(domain);
    } catch (error) {
      throw toDnsError(error, `MX ${domain}`);
    }
    // RFC 7505: a null MX is one record whose exchange is the root ("."); c-ares reports it as "".
    return records.map((r) => ({
      exchange: r.exchange === "" || r.exchange === "." ? "." : r.exchange.replace(/\.$/, ""),
      priority: r.priority,
    }));
  }

  /**
   * A and AAAA together. Either family answering is enough; when both fail the kind is the
   * strongest claim: notFound if either said NXDOMAIN, noData if both said so, else temporary.
   */
  async resolveAddresses(host: string, servers?: string[]): Promise<string[]> {
    const r = this.#resolver(servers);
    const [v4, v6] = await Promise.allSettled([r.resolve4(host), r.resolve6(host)]);
    const addresses = [
      ...(v4.status === "fulfilled" ? v4.value : []),
      ...(v6.status === "fulfilled" ? v6.value : []),
    ];
    if (addresses.length > 0) return addresses;
    const kinds = [v4, v6].map((s) =>
      s.status === "rejected" ? dnsErrorKind((s.reason as { code?: unknown }).code) : "noData",
    );
    const kind: DnsErrorKind = kinds.includes("notFound")
      ? "notFound"
      : kinds.every((k) => k === "noData")
        ? "noData"
        : "temporary";
    throw new DnsError(kind, `A/AAAA ${host}: ${kinds.join("/")}`);
  }
}
