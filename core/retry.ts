// Retry, delay-notification and expiry timing for queued messages, computed from TransportSettings.
import type { TransportSettings } from "./records/transport-settings.ts";

/*
 * Exchange's transport retries a deferred message on a fixed schedule (here 1 min × 4, 5 min × 6,
 * then every 15 min), sends the sender a delay DSN once the message has waited 4 hours, and gives up
 * with an NDR after 2 days. All three count from when the relay received the message.
 *
 * Expiry choice: a retry is never scheduled past expiry. When the next interval would end at or
 * after the expiry instant, the last attempt is made at that instant; a transient failure then (or
 * any later one) expires the message. So every message gets a final try at its deadline, as an
 * Exchange admin expects from "retry until expiry", and `nextAttemptAt` returns "expire" exactly
 * when `isExpired` is true.
 */

const SECOND = 1000;

/**
 * Seconds to wait after the `attemptsMade`-th failed attempt: attempt 1 uses the first interval of
 * the schedule, and past the schedule's end its last interval repeats. Zero attempts: no wait.
 */
export function retryDelaySeconds(settings: TransportSettings, attemptsMade: number): number {
  if (attemptsMade < 1) return 0;
  let remaining = Math.floor(attemptsMade);
  for (const step of settings.retrySchedule) {
    if (remaining <= step.count) return step.intervalSeconds;
    remaining -= step.count;
  }
  return settings.retrySchedule.at(-1)?.intervalSeconds ?? 0;
}

/** The instant a message received at `receivedAt` expires (messageExpirationTimeout after arrival). */
export function expiresAt(settings: TransportSettings, receivedAt: Date): Date {
  return new Date(receivedAt.getTime() + settings.messageExpirationTimeoutSeconds * SECOND);
}

/** True from the expiry instant on: a transient failure now ends in an NDR ("message expired"). */
export function isExpired(settings: TransportSettings, receivedAt: Date, now: Date): boolean {
  return now.getTime() >= expiresAt(settings, receivedAt).getTime();
}

/**
 * True when the sender should now get the one delay DSN (RFC 3464 Action: delayed): the message has
 * waited delayNotificationTimeout, none was sent yet, the timeout is not 0 (off), and the message
 * has not expired — at expiry the NDR replaces the delay notice.
 */
export function delayDsnDue(
  settings: TransportSettings,
  receivedAt: Date,
  now: Date,
  alreadyNotified: boolean,
): boolean {
  const timeout = settings.delayNotificationTimeoutSeconds;
  if (alreadyNotified || timeout === 0) return false;
  if (isExpired(settings, receivedAt, now)) return false;
  return now.getTime() - receivedAt.getTime() >= timeout * SECOND;
}

/**
 * When to try again after a transient failure at `now`, the `attemptsMade`-th so far: `now` plus the
 * retry interval, capped at the expiry instant; "expire" once the message has expired.
 */
export function nextAttemptAt(
  settings: TransportSettings,
  receivedAt: Date,
  attemptsMade: number,
  now: Date,
): Date | "expire" {
  if (isExpired(settings, receivedAt, now)) return "expire";
  const next = now.getTime() + retryDelaySeconds(settings, attemptsMade) * SECOND;
  return new Date(Math.min(next, expiresAt(settings, receivedAt).getTime()));
}
