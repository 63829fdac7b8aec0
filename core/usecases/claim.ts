// Claiming a delivery job before sending: at most one copy of a queue message sends at a time (SQS is at-least-once).
import type { DeliveryJob } from "../message.ts";
import type { AttemptWindow } from "./deadline.ts";
import { type DeliverDeps, logOf } from "./deps.ts";
import { describeError } from "./poison.ts";

/**
 * One claim per job and attempt number: the copies of one queue message share it, while the retry
 * job that an attempt queues (attempts + 1) has its own.
 */
export const claimKeyOf = (job: DeliveryJob): string => `${job.jobId}#${job.attempts}`;

/** An id for this copy of the job, unique without coordination. */
const newHolder = (): string => crypto.randomUUID();

export type Claimed<T> = { claimed: true; value: T } | { claimed: false; until: string };

/**
 * Runs `work` while holding the job's claim, then releases it so a later copy need not wait for
 * the lease to end (it finds the recipients final, or owned by the retry job, and skips them). A
 * holder that dies keeps the claim only until `window.leaseUntil`, which is past its function's
 * timeout. When another copy holds the claim, `work` does not run.
 */
export async function withJobClaim<T>(
  deps: DeliverDeps,
  job: DeliveryJob,
  window: AttemptWindow,
  work: () => Promise<T>,
): Promise<Claimed<T>> {
  const key = claimKeyOf(job);
  const holder = newHolder();
  const claim = await deps.tracking.claim(key, holder, window.leaseUntil, deps.clock.now());
  if (!claim.claimed) return claim;
  try {
    return { claimed: true, value: await work() };
  } finally {
    // A failed release only delays a redelivered copy until the lease ends; it must not hide work's result.
    await deps.tracking.release(key, holder).catch((error: unknown) =>
      logOf(deps).warn("job claim not released; it ends with its lease", {
        jobId: job.jobId,
        until: window.leaseUntil.toISOString(),
        error: describeError(error),
      }),
    );
  }
}
