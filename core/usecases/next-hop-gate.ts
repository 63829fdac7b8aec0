// Deliver's side of the next-hop limits: failover when a connector's smart hosts are all down, a slot and rate token per attempt, circuits per host, throttle backoff.
import type { DeliveryJob, NextHop, RecipientOutcome } from "../message.ts";
import { HopContentionError, type NextHopGovernor } from "../next-hop/governor.ts";
import { hopLimits } from "../next-hop/state.ts";
import { isHostDown, throttleOf } from "../next-hop/throttle.ts";
import { formatLastError } from "../outcome.ts";
import { parseHostPort } from "../records/common.ts";
import type { RecordSet } from "../records/record-set.ts";
import type { SendConnector } from "../records/send-connector.ts";
import type { TransportSettings } from "../records/transport-settings.ts";
import { explainRoute, nextHopFor, type Unavailable } from "../routing/select.ts";
import type { AttemptWindow } from "./deadline.ts";
import { type DeliverDeps, logOf } from "./deps.ts";
import { domainOf } from "./plan.ts";
import type { Target } from "./targets.ts";

/** What one attempt goes through: the job's connector, or the next by cost when that one is down. */
export interface AttemptRoute {
  connector: SendConnector;
  nextHop: NextHop;
  nextHopKey: string;
  /** Set when failing over: why, for tracking and the log. */
  failover?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Connectors that cannot take mail now: smart-host connectors whose every smart host has an open
 * circuit (MX connectors fail over between MX hosts instead). Used by deliver and `route explain`.
 */
export async function unavailableConnectors(
  governor: NextHopGovernor,
  connectors: SendConnector[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const now = governor.now();
  for (const c of connectors) {
    if (!c.enabled || c.dnsRoutingEnabled || c.smartHosts.length === 0) continue;
    const open: string[] = [];
    for (const text of c.smartHosts) {
      const hp = parseHostPort(text);
      if (!hp) continue;
      const circuit = await governor.circuit(hp.host, hp.port ?? c.port);
      const until = Math.max(circuit?.openUntil ?? 0, circuit?.probeUntil ?? 0);
      if (!circuit?.openUntil || until <= now) break;
      open.push(`${hp.host}:${hp.port ?? c.port} until ${iso(until)}`);
    }
    if (open.length === c.smartHosts.length)
      out.set(c.name, `every smart host has an open circuit (${open.join("; ")})`);
  }
  return out;
}

/**
 * The route for this attempt. When every smart host of the job's connector is open, the selection
 * rule (core/routing/select.ts) is asked again with that connector unavailable; the winner must be
 * the same for every recipient domain of the job, else the job stays on its connector and waits.
 */
export async function routeForAttempt(
  deps: DeliverDeps,
  set: RecordSet,
  job: DeliveryJob,
  connector: SendConnector,
  recipients: string[],
): Promise<AttemptRoute> {
  const own: AttemptRoute = { connector, nextHop: job.nextHop, nextHopKey: job.nextHopKey };
  const governor = deps.nextHops;
  if (!governor || connector.dnsRoutingEnabled) return own;
  let unavailable: Unavailable;
  try {
    unavailable = await unavailableConnectors(governor, set.sendConnectors);
  } catch (error) {
    logOf(deps).warn("next-hop state unavailable; no failover", { error });
    return own;
  }
  const why = unavailable.get(connector.name);
  if (!why) return own;
  const winners = new Set<SendConnector>();
  for (const domain of new Set(recipients.map(domainOf))) {
    const q = { recipientDomain: domain, sender: job.mailFrom, size: job.size };
    const { result } = explainRoute(set.sendConnectors, q, unavailable);
    if (result.ok) winners.add(result.connector);
  }
  const [next] = winners;
  if (winners.size !== 1 || !next || next === connector) return own;
  const hop = nextHopFor(next, domainOf(recipients[0] ?? ""));
  const failover = `Failover from send connector "${connector.name}" to "${next.name}": ${why}`;
  return { connector: next, ...hop, failover };
}

export type HopAdmission =
  | { ok: true; release(): Promise<void> }
  | { ok: false; reason: string; delaySeconds: number };

const NO_GATE: HopAdmission = { ok: true, release: async () => {} };

/**
 * A connection slot and a rate token on the route's next hop, held until the attempt ends (or,
 * if this invocation dies, until `window.leaseUntil`). Refused: the job goes back to its queue
 * with a delay, not counted as an attempt. A store that cannot be reached lets mail through
 * (limits protect reputation; stopping all mail would be worse).
 */
export async function admitAttempt(
  deps: DeliverDeps,
  settings: TransportSettings,
  route: AttemptRoute,
  job: DeliveryJob,
  window: AttemptWindow,
): Promise<HopAdmission> {
  const governor = deps.nextHops;
  if (!governor) return NO_GATE;
  const holder = `${job.jobId}#${job.attempts}#${crypto.randomUUID().slice(0, 8)}`;
  const limits = hopLimits(route.connector, settings);
  const jitter = () => Math.floor((deps.random ?? Math.random)() * 3);
  try {
    const a = await governor.admit(route.nextHopKey, limits, holder, window.leaseUntil);
    if (!a.ok) {
      const wait = Math.ceil((a.until - governor.now()) / 1000);
      return { ok: false, reason: a.reason, delaySeconds: Math.max(1, wait) + jitter() };
    }
  } catch (error) {
    if (error instanceof HopContentionError)
      return { ok: false, reason: error.message, delaySeconds: 1 + jitter() };
    logOf(deps).warn("next-hop state unavailable; attempting without limits", { error });
    return NO_GATE;
  }
  return {
    ok: true,
    release: () =>
      governor.release(route.nextHopKey, holder).catch((error: unknown) => {
        logOf(deps).warn("next-hop slot not released; it ends with its lease", { error });
      }),
  };
}

/** The circuit check before each connection and the report after it, for attemptDelivery. */
export interface HostGuard {
  /** Undefined: connect. Otherwise why the host is skipped (its circuit is open). */
  before(target: Target): Promise<string | undefined>;
  after(target: Target, outcomes: RecipientOutcome[]): Promise<void>;
}

const PROBE_LEASE_MS = 120_000;

export function hostGuard(
  deps: DeliverDeps,
  settings: TransportSettings,
  window: AttemptWindow,
): HostGuard | undefined {
  const governor = deps.nextHops;
  if (!governor) return undefined;
  const failSafe = (what: string) => (error: unknown) => {
    logOf(deps).warn(`host circuit not ${what}`, { error });
    return undefined;
  };
  return {
    before: async (t) => {
      // A probe that dies blocks the host only briefly: its lease is at most two minutes.
      const probeUntil = Math.min(window.leaseUntil.getTime(), governor.now() + PROBE_LEASE_MS);
      const g = await governor.gate(t.host, t.port, new Date(probeUntil)).catch(failSafe("read"));
      if (g?.kind !== "open") return undefined;
      return `circuit open for ${t.host}:${t.port} until ${iso(g.until)}${g.lastError ? ` after ${g.lastError}` : ""}`;
    },
    after: async (t, outcomes) => {
      const first = outcomes[0];
      const detail = first && first.status !== "delivered" ? first.detail : undefined;
      const lastError = first ? formatLastError(first.remoteHost, first.reply, detail) : "";
      await governor
        .report(t.host, t.port, isHostDown(outcomes), settings, lastError)
        .catch(failSafe("updated"));
    },
  };
}

/** A throttle reply in the outcomes backs the whole next hop off (see core/next-hop/state.ts). */
export async function noteThrottle(
  deps: DeliverDeps,
  settings: TransportSettings,
  route: AttemptRoute,
  outcomes: RecipientOutcome[],
): Promise<void> {
  const governor = deps.nextHops;
  const reply = governor && throttleOf(outcomes, settings.throttleReplyPatterns);
  if (!governor || !reply) return;
  try {
    const s = await governor.throttled(route.nextHopKey, settings, reply);
    logOf(deps).warn("next hop throttled", {
      nextHop: route.nextHopKey,
      reply,
      until: s.throttle ? iso(s.throttle.until) : undefined,
    });
  } catch (error) {
    logOf(deps).warn("next-hop throttle not recorded", { error });
  }
}

/** The attempt's next-hop options: the circuit guard and SmtpMaxMessagesPerConnection. */
export function nextHopOptions(
  deps: DeliverDeps,
  settings: TransportSettings,
  route: AttemptRoute,
  window: AttemptWindow,
): { guard?: HostGuard; maxMessagesPerConnection: number } {
  const guard = hostGuard(deps, settings, window);
  const max = hopLimits(route.connector, settings).maxMessagesPerConnection;
  return { ...(guard ? { guard } : {}), maxMessagesPerConnection: max };
}

/** A failover is written to each recipient's tracking log (Get-MessageTrackingLog shows it). */
export async function noteFailover(
  deps: DeliverDeps,
  job: DeliveryJob,
  recipients: string[],
  detail: string,
): Promise<void> {
  const at = deps.clock.now().toISOString();
  for (const recipient of recipients)
    await deps.tracking.addEvent({
      messageId: job.messageId,
      recipient,
      sender: job.mailFrom,
      at,
      event: "ROUTE",
      source: "ROUTING",
      detail,
    });
  logOf(deps).warn("send connector failover", { jobId: job.jobId, detail });
}
