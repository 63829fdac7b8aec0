// The rules for one next hop, as pure functions of its shared state: connection slots, messages per minute, throttle backoff and ramp-up.
import type { SendConnector } from "../records/send-connector.ts";
import type { TransportSettings } from "../records/transport-settings.ts";

export interface HopLimits {
  maxConnections: number;
  maxMessagesPerConnection: number;
  maxPerMinute?: number;
}

/** The connector's limits, else TransportSettings' (Exchange's defaults: 20 connections, 20 messages each). */
export function hopLimits(c: SendConnector, s: TransportSettings): HopLimits {
  const perMinute = c.maxMessagesPerMinute ?? s.maxMessagesPerMinute;
  return {
    maxConnections: c.maxPerDomainOutboundConnections ?? s.maxPerDomainOutboundConnections,
    maxMessagesPerConnection: c.smtpMaxMessagesPerConnection ?? s.smtpMaxMessagesPerConnection,
    ...(perMinute ? { maxPerMinute: perMinute } : {}),
  };
}

export interface HopThrottle {
  /** No new attempt before this (epoch ms). */
  until: number;
  /** Half the connections until this, then the full limit again. */
  rampUntil: number;
  /** Backoffs in a row (each within the ramp of the one before): the backoff doubles with each. */
  strikes: number;
  lastError: string;
}

export interface HopState {
  /** Slot leases: holder → end (epoch ms). A crashed invocation's slot frees itself at the end. */
  leases: Record<string, number>;
  /** Start times of the messages sent in the last minute (a sliding window, never more than the limit). */
  starts?: number[];
  throttle?: HopThrottle;
}

const MINUTE = 60_000;
/** A job that finds every slot taken comes back after this: long enough not to spin, short enough to keep the hop busy. */
export const BUSY_RETRY_MS = 2_000;
/** Documents outlive their last deadline by this, so a backoff's history is there for the next throttle. */
const KEEP_MS = 3600_000;

/** The state without what has ended: expired leases, starts older than a minute, a finished ramp. */
export function pruneHop(state: HopState | undefined, now: number): HopState {
  const leases = Object.fromEntries(Object.entries(state?.leases ?? {}).filter(([, u]) => u > now));
  const out: HopState = { leases };
  const starts = (state?.starts ?? []).filter((t) => t > now - MINUTE);
  if (starts.length) out.starts = starts;
  if (state?.throttle && state.throttle.rampUntil > now) out.throttle = state.throttle;
  return out;
}

/** Connections allowed now: the limit, halved (at least 1) while ramping up after a throttle. */
export function connectionsNow(state: HopState, limits: HopLimits, now: number): number {
  const ramping = state.throttle && now < state.throttle.rampUntil;
  return ramping ? Math.max(1, Math.floor(limits.maxConnections / 2)) : limits.maxConnections;
}

export type SlotAdmission =
  | { ok: true; state: HopState }
  | { ok: false; until: number; reason: string; kind: "throttled" | "busy" | "rate" };

/** A slot and a rate token for `holder` until `leaseUntil`, or when to come back and why. */
export function admitToHop(
  current: HopState | undefined,
  limits: HopLimits,
  holder: string,
  leaseUntil: number,
  now: number,
  runner = "",
): SlotAdmission {
  const s = pruneHop(current, now);
  // The runner's own lingering lease (its idle connection) passes to this job: no new slot.
  const own = runner ? Object.keys(s.leases).find((k) => k.startsWith(`${runner}~`)) : undefined;
  if (own) delete s.leases[own];
  if (s.throttle && now < s.throttle.until)
    return {
      ok: false,
      kind: "throttled",
      until: s.throttle.until,
      reason: `next hop backed off after a throttle reply (${s.throttle.lastError}) until ${new Date(s.throttle.until).toISOString()}`,
    };
  const cap = connectionsNow(s, limits, now);
  const others = Object.keys(s.leases).filter((h) => h !== holder).length;
  if (!own && others >= cap)
    return {
      ok: false,
      kind: "busy",
      until: now + BUSY_RETRY_MS,
      reason: `all ${cap} connection slot(s) to the next hop are in use${cap < limits.maxConnections ? " (halved after a throttle reply)" : ""}`,
    };
  const starts = s.starts ?? [];
  if (limits.maxPerMinute !== undefined && starts.length >= limits.maxPerMinute)
    return {
      ok: false,
      kind: "rate",
      until: (starts[starts.length - limits.maxPerMinute] ?? now) + MINUTE,
      reason: `maxMessagesPerMinute ${limits.maxPerMinute} reached for the next hop`,
    };
  return {
    ok: true,
    state: {
      ...s,
      leases: { ...s.leases, [holder]: leaseUntil },
      ...(limits.maxPerMinute !== undefined ? { starts: [...starts, now] } : {}),
    },
  };
}

/**
 * A slot covers a connection, and the courier keeps a connection open up to 2 s after its last
 * transaction (Postfix's smtp_connection_cache_time_limit) for the next job of the same runner.
 * So a finished job's lease is not dropped: it passes to its runner (`<runner>~…`) for this long,
 * and that runner's next job takes it over (reusing the idle connection), while another runner (a
 * Lambda execution environment) must not open a connection beside it.
 */
export const CONNECTION_LINGER_MS = 3_000;

export function releaseSlot(
  current: HopState | undefined,
  holder: string,
  runner: string,
  now: number,
): HopState {
  const s = pruneHop(current, now);
  const until = s.leases[holder];
  if (until === undefined) return s;
  const { [holder]: _done, ...leases } = s.leases;
  leases[`${runner}~${holder}`] = Math.min(until, now + CONNECTION_LINGER_MS);
  return { ...s, leases };
}

export interface ThrottleSettings {
  throttleBackoffSeconds: number;
  throttleBackoffMaxSeconds: number;
  throttleRampSeconds: number;
}

/**
 * A throttle reply backs the whole hop off: 1×, 2×, 4× … the base (capped) while throttles keep
 * coming within the ramp; replies that arrive during a backoff (attempts already in flight) add no
 * strike. After the backoff the hop runs at half its connections for the ramp, then at full.
 */
export function throttleHop(
  current: HopState | undefined,
  s: ThrottleSettings,
  lastError: string,
  now: number,
): HopState {
  const state = pruneHop(current, now);
  const t = state.throttle;
  if (t && now < t.until) return state;
  const strikes = t ? t.strikes + 1 : 1;
  const backoff = Math.min(
    s.throttleBackoffMaxSeconds * 1000,
    s.throttleBackoffSeconds * 1000 * 2 ** (strikes - 1),
  );
  const until = now + backoff;
  return {
    ...state,
    throttle: { until, rampUntil: until + s.throttleRampSeconds * 1000, strikes, lastError },
  };
}

/** When the document may go: after everything in it has ended, plus an hour. */
export function hopExpiry(state: HopState, now: number): number {
  const times = [
    now,
    ...Object.values(state.leases),
    ...(state.starts ?? []).map((t) => t + MINUTE),
  ];
  if (state.throttle) times.push(state.throttle.rampUntil);
  return Math.max(...times) + KEEP_MS;
}
