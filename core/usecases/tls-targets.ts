// MX targets with their TLS policy: looks up MTA-STS (through the shared cache) and TLSA, then lets core/tls-policy decide.
import type { SendConnector } from "../records/send-connector.ts";
import type { TlsaAnswer } from "../tls-policy/dane.ts";
import { decideTlsPolicy, type TlsPolicyDecision } from "../tls-policy/decide.ts";
import { type MtaStsState, mtaStsPolicyOf } from "../tls-policy/mta-sts-cache.ts";
import { courierTls } from "./attempt.ts";
import { type DeliverDeps, logOf } from "./deps.ts";
import type { Target } from "./targets.ts";

/**
 * Smart hosts and runtimes without TLS policy lookups keep the connector's own TLS. For MX
 * delivery the lookups run per attempt (TXT and TLSA are one query each; the policy file comes
 * from the shared cache until its max_age or a new TXT id).
 */
export async function policedTargets(
  deps: DeliverDeps,
  connector: SendConnector,
  domain: string,
  targets: Target[],
): Promise<TlsPolicyDecision> {
  const base = courierTls(connector);
  const lookups = deps.tlsPolicy;
  if (!lookups || !connector.dnsRoutingEnabled)
    return {
      ok: true,
      notes: [],
      targets: targets.map((t) => ({
        ...t,
        tls: base,
        tlsPolicy: connector.dnsRoutingEnabled
          ? "connector TLS settings"
          : "smart host: connector TLS settings",
      })),
    };
  const log = logOf(deps);
  const servers = connector.externalDnsServers.length ? connector.externalDnsServers : undefined;
  const mtaSts: MtaStsState | { kind: "disabled" } = connector.mtaStsEnabled
    ? await mtaStsPolicyOf(
        { lookups: lookups.lookups, store: lookups.mtaStsStore, log },
        domain,
        servers,
        deps.clock.now(),
      )
    : { kind: "disabled" };
  let tlsa: Map<string, TlsaAnswer> | undefined;
  if (connector.daneEnabled && connector.dnssecValidatingResolver) {
    tlsa = new Map();
    const mxSecure = await lookups.lookups.mxSecure(domain, servers);
    for (const host of new Set(targets.map((t) => t.host)))
      tlsa.set(
        host,
        mxSecure ? await lookups.lookups.tlsa(host, servers) : { kind: "unauthenticated" },
      );
  }
  const decision = decideTlsPolicy({
    targets,
    base,
    mtaSts,
    ...(tlsa ? { tlsa } : {}),
    audit: (host, problem) =>
      log.warn("MTA-STS testing: policy check failed; delivered anyway", {
        connector: connector.name,
        domain,
        host,
        problem,
      }),
  });
  for (const note of decision.ok ? decision.notes : [])
    log.info("MX host skipped by TLS policy", { connector: connector.name, domain, note });
  return decision;
}
