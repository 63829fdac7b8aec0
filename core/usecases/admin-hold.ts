// Delivery jobs kept in the message store: a job whose recipients an admin suspended (parked until resumed), and the newest retry of each job (for Retry-Message).
import { NotFoundError } from "../errors.ts";
import type { DeliveryJob } from "../message.ts";
import type { MessageStore, QueueProducer, TrackingStore } from "../ports.ts";

/*
 * Exchange keeps a suspended message in its queue until Resume-Message. Queues here cannot hold a
 * message back (SQS has no suspend), so deliver drops a job whose recipients are all suspended;
 * parking a copy first is what lets resume send it again. One key per job id (retries keep the id);
 * the local message store allows no "/" in keys, so the prefix ends with a dot.
 */
export const HELD_JOB_PREFIX = "held.";
export const heldJobKey = (jobId: string): string => `${HELD_JOB_PREFIX}${jobId}`;

/** The parked copy of a job, or undefined when none is parked. */
export async function readHeldJob(
  store: MessageStore,
  jobId: string,
): Promise<DeliveryJob | undefined> {
  try {
    return JSON.parse(Buffer.from(await store.get(heldJobKey(jobId))).toString("utf8"));
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/**
 * Parks `job` for the suspended `recipients`. A copy of the same job parked earlier (another retry
 * of it, with other recipients held) is merged in, so no held recipient is lost by an overwrite.
 */
export async function parkHeldJob(
  store: MessageStore,
  job: DeliveryJob,
  recipients: string[],
): Promise<DeliveryJob> {
  const earlier = await readHeldJob(store, job.jobId);
  const seen = new Set<string>();
  const all = [...recipients, ...(earlier?.recipients ?? [])].filter((r) => {
    const k = r.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const newest = earlier && earlier.attempts > job.attempts ? earlier : job;
  const parked: DeliveryJob = { ...newest, recipients: all };
  delete parked.notBefore;
  await store.put(heldJobKey(job.jobId), new TextEncoder().encode(JSON.stringify(parked)));
  return parked;
}

/*
 * Retry-Message needs the job it sends again now. The local spool can be read; SQS hides a
 * delayed message from everyone, so settle keeps the newest retry of each job beside the bodies
 * (one small object per deferral, dropped when the job settles without one). The delayed original
 * still arrives later and finds its rows an attempt ahead: deliver skips it as superseded.
 */
export const RETRY_JOB_PREFIX = "retry.";
export const retryJobKey = (jobId: string): string => `${RETRY_JOB_PREFIX}${jobId}`;

export async function keepRetryJob(store: MessageStore, job: DeliveryJob): Promise<void> {
  await store.put(retryJobKey(job.jobId), new TextEncoder().encode(JSON.stringify(job)));
}

export async function dropRetryJob(store: MessageStore, jobId: string): Promise<void> {
  await store.delete(retryJobKey(jobId));
}

/** The kept retry of each of a message's jobs (the rows name the jobs): Retry-Message's source in AWS. */
export function keptRetryJobs(
  tracking: Pick<TrackingStore, "listByMessage">,
  store: MessageStore,
): { forMessage(messageId: string): Promise<DeliveryJob[]> } {
  return {
    async forMessage(messageId) {
      const rows = await tracking.listByMessage(messageId);
      const jobs: DeliveryJob[] = [];
      for (const jobId of new Set(rows.flatMap((r) => (r.jobId ? [r.jobId] : [])))) {
        try {
          jobs.push(JSON.parse(Buffer.from(await store.get(retryJobKey(jobId))).toString("utf8")));
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
        }
      }
      return jobs;
    },
  };
}

/**
 * Sends a just-parked copy on when an admin resumed its recipients meanwhile. Resume writes the
 * rows, then looks for a parked copy; deliver writes the copy, then reads the rows again (here).
 * Whichever comes second sees the other's write, so a resume between deliver's read of the rows
 * and its park still sends the message. As in resume: send first, then delete the copy (a crash
 * between leaves a copy, never a lost recipient). Both may send it; the job's claim and its rows
 * let one copy act. Returns whether it was sent on.
 */
export async function sendOnIfResumed(
  deps: {
    messages: MessageStore;
    tracking: Pick<TrackingStore, "get">;
    deliveryQueue: QueueProducer<DeliveryJob>;
  },
  parked: DeliveryJob,
): Promise<boolean> {
  for (const recipient of parked.recipients) {
    const row = await deps.tracking.get(parked.messageId, recipient);
    if (row?.status === "Suspended") continue;
    await deps.deliveryQueue.send(parked);
    await deps.messages.delete(heldJobKey(parked.jobId));
    return true;
  }
  return false;
}
