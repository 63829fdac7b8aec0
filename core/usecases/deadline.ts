// How long one deliver invocation may spend on a job: an attempt deadline inside the function's time, and the lease that covers it.

/**
 * Kept back from the function's time left to record outcomes (tracking, retry job, DSNs) after an
 * attempt ends at its deadline: a fifth of what is left, at most 10 s (Lambda's 300 s deliver
 * timeout gives attempts 290 s).
 */
export const MAX_DEADLINE_MARGIN_MS = 10_000;
const MARGIN_SHARE = 0.2;

/** Below this an attempt is not started: the job goes back to the queue, not counted as an attempt. */
export const MIN_ATTEMPT_MS = 1000;

/**
 * A killed function cannot write after its timeout, so the lease ends just after it; the slack
 * covers clock differences between execution environments (NTP-synced in Lambda).
 */
export const LEASE_SLACK_MS = 2000;

/** The lease when the caller gives no time limit (a direct call, tests): the longest SQS delay. */
export const DEFAULT_LEASE_MS = 15 * 60_000;

export interface AttemptWindow {
  /** When the SMTP attempt must be over; undefined: only the courier's own timeouts. */
  deadline?: Date;
  /** Until when this copy holds the job's claim. */
  leaseUntil: Date;
}

/** The window for a job started at `now` with `timeLeftMs` of the function left (undefined: no limit). */
export function attemptWindow(now: Date, timeLeftMs?: number): AttemptWindow {
  const t = now.getTime();
  if (timeLeftMs === undefined) return { leaseUntil: new Date(t + DEFAULT_LEASE_MS) };
  const margin = Math.min(MAX_DEADLINE_MARGIN_MS, timeLeftMs * MARGIN_SHARE);
  return {
    deadline: new Date(t + timeLeftMs - margin),
    leaseUntil: new Date(t + timeLeftMs + LEASE_SLACK_MS),
  };
}

/** Milliseconds left before `deadline` (undefined when there is none). */
export function msLeft(deadline: Date | undefined, now: Date): number | undefined {
  return deadline === undefined ? undefined : deadline.getTime() - now.getTime();
}
