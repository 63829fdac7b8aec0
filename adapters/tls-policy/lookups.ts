// TlsPolicyLookups on the network: _mta-sts TXT and policy-host addresses through node:dns, the HTTPS fetch, TLSA through dns-packet.
import { Resolver } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import { dnsErrorKind } from "#adapters/dns/resolver.ts";
import type { TlsaAnswer } from "#core/tls-policy/dane.ts";
import type {
  MtaStsFetchResult,
  MtaStsTxtAnswer,
  TlsPolicyLookups,
} from "#core/tls-policy/ports.ts";
import { fetchMtaStsPolicy, type MtaStsFetchOptions } from "./mta-sts-fetch.ts";
import { isSecure, lookupTlsa, type TlsaClientOptions } from "./tlsa-client.ts";

export interface NetworkTlsPolicyLookupsOptions {
  /** Limits and test-only trust anchors and port of the policy fetch. */
  fetch?: Omit<MtaStsFetchOptions, "lookup">;
  tlsa?: TlsaClientOptions;
  /** Per-try DNS timeout for TXT and addresses, in ms. Default 2000. */
  dnsTimeoutMs?: number;
}

export class NetworkTlsPolicyLookups implements TlsPolicyLookups {
  readonly #options: NetworkTlsPolicyLookupsOptions;
  readonly #resolvers = new Map<string, Resolver>();

  constructor(options: NetworkTlsPolicyLookupsOptions = {}) {
    this.#options = options;
  }

  #resolver(servers: string[] | undefined): Resolver {
    const key = servers?.join(",") ?? "";
    let r = this.#resolvers.get(key);
    if (!r) {
      r = new Resolver({ timeout: this.#options.dnsTimeoutMs ?? 2000, tries: 2 });
      if (servers?.length) r.setServers(servers);
      this.#resolvers.set(key, r);
    }
    return r;
  }

  async mtaStsTxt(domain: string, servers?: string[]): Promise<MtaStsTxtAnswer> {
    try {
      const txts = await this.#resolver(servers).resolveTxt(`_mta-sts.${domain}`);
      // RFC 8461 §3.1: a record split into several strings is their concatenation.
      return { kind: "records", txts: txts.map((parts) => parts.join("")) };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return dnsErrorKind(code) === "temporary"
        ? { kind: "failed", reason: String(code ?? error) }
        : { kind: "none" };
    }
  }

  fetchMtaStsPolicy(domain: string, servers?: string[]): Promise<MtaStsFetchResult> {
    const resolver = this.#resolver(servers);
    // The policy host resolves through the connector's DNS servers, like its MX hosts.
    const lookup: LookupFunction = (hostname, options, callback) => {
      const all = (options as { all?: boolean }).all === true;
      Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]).then(
        ([v4, v6]) => {
          const list = [
            ...(v4.status === "fulfilled" ? v4.value.map((a) => ({ address: a, family: 4 })) : []),
            ...(v6.status === "fulfilled" ? v6.value.map((a) => ({ address: a, family: 6 })) : []),
          ];
          const first = list[0];
          if (!first)
            return callback(
              Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }),
              "",
              0,
            );
          if (all) (callback as unknown as (e: null, l: typeof list) => void)(null, list);
          else callback(null, first.address, first.family);
        },
      );
    };
    return fetchMtaStsPolicy(domain, { ...this.#options.fetch, lookup });
  }

  mxSecure(domain: string, servers?: string[]): Promise<boolean> {
    return isSecure(domain, "MX", servers, this.#options.tlsa);
  }

  tlsa(host: string, servers?: string[]): Promise<TlsaAnswer> {
    return lookupTlsa(host, servers, this.#options.tlsa);
  }
}
