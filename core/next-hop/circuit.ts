// The circuit breaker of one SMTP host (smart host or MX host): closed, open after failures in a row, half-open with one probe.

export interface CircuitSettings {
  circuitBreakerThreshold: number;
  circuitBreakerWindowSeconds: number;
  circuitBreakerOpenSeconds: number;
  circuitBreakerMaxOpenSeconds: number;
}

export interface HostCircuit {
  /** Connection failures or time-outs in a row, the first at `since` (epoch ms). */
  failures: number;
  since: number;
  /** Open until then; after it half-open. Absent: closed. */
  openUntil?: number;
  /** Times opened in a row (a failed probe opens again for twice as long). */
  opens: number;
  /** Half-open: the probe holder's lease ends then; other jobs still skip the host. */
  probeUntil?: number;
  lastError?: string;
}

export type CircuitGate =
  | { kind: "closed" }
  | { kind: "probe"; state: HostCircuit }
  | { kind: "open"; until: number; lastError?: string };

/**
 * Whether a job may connect now. Open: skip at once (no connection, no time-out waited for).
 * Half-open: the first job to ask becomes the probe (its write takes the probe lease); the rest
 * skip until the probe's lease ends.
 */
export function circuitGate(
  c: HostCircuit | undefined,
  now: number,
  probeUntil: number,
): CircuitGate {
  if (!c?.openUntil) return { kind: "closed" };
  const lastError = c.lastError !== undefined ? { lastError: c.lastError } : {};
  if (now < c.openUntil) return { kind: "open", until: c.openUntil, ...lastError };
  if (c.probeUntil && now < c.probeUntil)
    return { kind: "open", until: c.probeUntil, ...lastError };
  return { kind: "probe", state: { ...c, probeUntil } };
}

const openFor = (s: CircuitSettings, opens: number) =>
  Math.min(s.circuitBreakerMaxOpenSeconds, s.circuitBreakerOpenSeconds * 2 ** (opens - 1)) * 1000;

/** A connection failure or time-out: counts towards the threshold, or reopens a half-open circuit for longer. */
export function circuitFailed(
  c: HostCircuit | undefined,
  s: CircuitSettings,
  lastError: string,
  now: number,
): HostCircuit {
  if (c?.openUntil) {
    // Still open (a job that started before it opened): nothing new. Else the probe failed.
    if (now < c.openUntil) return c;
    const opens = c.opens + 1;
    return {
      failures: c.failures + 1,
      since: c.since,
      opens,
      openUntil: now + openFor(s, opens),
      lastError,
    };
  }
  const fresh = !c || now - c.since > s.circuitBreakerWindowSeconds * 1000;
  const failures = fresh ? 1 : c.failures + 1;
  const since = fresh ? now : c.since;
  if (failures < s.circuitBreakerThreshold) return { failures, since, opens: 0, lastError };
  return { failures, since, opens: 1, openUntil: now + openFor(s, 1), lastError };
}

/** The host answered (any SMTP reply): the circuit closes and the count starts again. */
export const circuitClosed = (now: number): HostCircuit => ({ failures: 0, since: now, opens: 0 });

/** Keep a circuit an hour past its last deadline, so a flapping host keeps its history. */
export function circuitExpiry(c: HostCircuit, now: number): number {
  return Math.max(now, c.openUntil ?? 0, c.probeUntil ?? 0, c.since) + 3600_000;
}
