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
 * Runs `work` while holding the job's claim. A holder that dies keeps the claim only until
 * `window.leaseUntil`, which is past its function's timeout. When another copy holds the claim,
 * `work` does not run.
 *
 * When `settled(value)` says work left nothing of this job open (every recipient final, or moved
 * on to the retry job's attempt number), the claim is kept until its lease ends: a later copy
 * finds the claim taken, reads the rows and stops there, so a release would save it nothing and
 * would cost a write per job. Otherwise (work threw, gave the job back, or parked recipients that
 * a resume sends again under this key) it is released, so the next copy need not wait.
 */
export async function withJobClaim<T>(
  deps: DeliverDeps,
  job: DeliveryJob,
  window: AttemptWindow,
  work: () => Promise<T>,
  settled: (value: T) => boolean = () => false,
): Promise<Claimed<T>> {
  const key = claimKeyOf(job);
  const holder = newHolder();
  const claim = await deps.tracking.claim(key, holder, window.leaseUntil, deps.clock.now());
  if (!claim.claimed) return claim;
  // A failed release only delays a redelivered copy until the lease ends; it must not hide work's result.
  const release = () =>
    deps.tracking.release(key, holder).catch((error: unknown) =>
      logOf(deps).warn("job claim not released; it ends with its lease", {
        jobId: job.jobId,
        until: window.leaseUntil.toISOString(),
        error: describeError(error),
      }),
    );
  let value: T;
  try {
    value = await work();
  } catch (error) {
    await release();
    throw error;
  }
  if (!settled(value)) await release();
  return { claimed: true, value };
}
