// Held delivery jobs: a job whose recipients an admin suspended is parked in the message store until resumed.
import { NotFoundError } from "../errors.ts";
import type { DeliveryJob } from "../message.ts";
import type { MessageStore } from "../ports.ts";

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
