// Admin actions on one message (Exchange's Suspend-, Resume-, Retry- and Remove-Message) on the ports, for either runtime.
import type { DsnRecipient } from "../dsn.ts";
import type { BodyRef, DeliveryJob } from "../message.ts";
import type { RecipientRow, RecipientStatus, TrackingEventType } from "../ports.ts";
import { REMOTE_PERMANENT } from "../replies.ts";
import { dropRetryJob, heldJobKey, keepRetryJob, readHeldJob } from "./admin-hold.ts";
import { dropBodyIfDone } from "./body.ts";
import { type DsnResult, sendDsn } from "./bounce.ts";
import { logOf, type RelayDeps } from "./deps.ts";

/**
 * A message's delivery jobs still waiting. The local spool can be read beside a running relay;
 * SQS cannot (a delayed message is invisible to everyone), so in AWS they are the retries settle
 * keeps in the message store (keptRetryJobs in admin-hold.ts).
 */
export interface QueuedJobs {
  forMessage(messageId: string): Promise<DeliveryJob[]>;
}

export interface AdminDeps extends RelayDeps {
  jobs?: QueuedJobs;
}

export type AdminResult =
  | {
      kind: "done";
      messageId: string;
      /** Recipients the action changed. */
      recipients: string[];
      /** Delivery jobs sent to the delivery queue (resume, retry). */
      jobs: string[];
      note?: string;
      ndr?: DsnResult;
    }
  | { kind: "not-found"; messageId: string }
  | { kind: "nothing-to-do"; messageId: string; reason: string }
  | { kind: "unsupported"; messageId: string; reason: string };

/** Only routed rows are suspended: a Queued row is inside route, which would then never emit its job. */
const SUSPENDABLE: RecipientStatus[] = ["Routed", "Deferred"];
const REMOVABLE: RecipientStatus[] = ["Queued", "Routed", "Deferred", "Suspended"];
export const REMOVED_LAST_ERROR = "Removed by administrator";
export const POISON_PREFIX = "Poison message:";

const describe = (rows: RecipientRow[]) => rows.map((r) => `${r.recipient} ${r.status}`).join(", ");

async function event(
  deps: RelayDeps,
  row: RecipientRow,
  type: TrackingEventType,
  detail: string,
): Promise<void> {
  await deps.tracking.addEvent({
    messageId: row.messageId,
    recipient: row.recipient,
    sender: row.sender,
    at: deps.clock.now().toISOString(),
    event: type,
    source: "ADMIN",
    detail,
  });
}

async function rowsOf(deps: RelayDeps, messageId: string) {
  return deps.tracking.listByMessage(messageId);
}

/** Suspend-Message: routed recipients stop; a job that finds them suspended is parked (see deliver). */
export async function suspendMessage(deps: AdminDeps, messageId: string): Promise<AdminResult> {
  const rows = await rowsOf(deps, messageId);
  if (rows.length === 0) return { kind: "not-found", messageId };
  const targets = rows.filter((r) => SUSPENDABLE.includes(r.status));
  if (targets.length === 0)
    return { kind: "nothing-to-do", messageId, reason: `nothing to suspend (${describe(rows)})` };
  const done: string[] = [];
  const at = deps.clock.now().toISOString();
  for (const r of targets) {
    const patch = { status: "Suspended" as const, updatedAt: at };
    if (!(await deps.tracking.update(messageId, r.recipient, patch, { ifStatusIn: SUSPENDABLE })))
      continue;
    done.push(r.recipient);
    await event(deps, r, "SUSPEND", "suspended by the administrator");
  }
  return { kind: "done", messageId, recipients: done, jobs: [] };
}

/**
 * Resume-Message: suspended rows become active again (Deferred, or Queued when never routed), then
 * each parked job is sent to the delivery queue and its parked copy deleted. Rows first, so the
 * job finds them open; a crash before the delete leaves a parked copy, never a lost recipient.
 * `onlyPoison` resumes only what a poison message suspended (redriving the dead-letter queue).
 */
export async function resumeMessage(
  deps: AdminDeps,
  messageId: string,
  options: { onlyPoison?: boolean } = {},
): Promise<AdminResult> {
  const rows = await rowsOf(deps, messageId);
  if (rows.length === 0) return { kind: "not-found", messageId };
  const targets = rows.filter(
    (r) =>
      r.status === "Suspended" &&
      (!options.onlyPoison || (r.lastError ?? "").startsWith(POISON_PREFIX)),
  );
  if (targets.length === 0)
    return { kind: "nothing-to-do", messageId, reason: `nothing suspended (${describe(rows)})` };
  const at = deps.clock.now().toISOString();
  const resumed: RecipientRow[] = [];
  for (const r of targets) {
    const status: RecipientStatus = r.jobId ? "Deferred" : "Queued";
    const patch = { status, updatedAt: at };
    if (!(await deps.tracking.update(messageId, r.recipient, patch, { ifStatusIn: ["Suspended"] })))
      continue;
    resumed.push(r);
    await event(deps, r, "RESUME", `resumed by the administrator (${status})`);
  }
  const jobs: string[] = [];
  for (const jobId of new Set(resumed.flatMap((r) => (r.jobId ? [r.jobId] : [])))) {
    const held = await readHeldJob(deps.messages, jobId);
    if (!held) continue;
    await deps.deliveryQueue.send(held);
    await deps.messages.delete(heldJobKey(jobId));
    jobs.push(jobId);
  }
  const waiting = resumed.filter((r) => !r.jobId || !jobs.includes(r.jobId));
  const poisoned = waiting.some((r) => (r.lastError ?? "").startsWith(POISON_PREFIX));
  const result: AdminResult = {
    kind: "done",
    messageId,
    recipients: resumed.map((r) => r.recipient),
    jobs,
  };
  if (waiting.length)
    result.note = poisoned
      ? "its job is in the Poison queue: relay queue retry sends it again"
      : `${waiting.length} recipient(s) continue with the job still queued, at its next retry`;
  return result;
}

/** The newest queued copy of each job: retries keep the job id and count attempts up. */
function newestPerJob(jobs: DeliveryJob[]): DeliveryJob[] {
  const byId = new Map<string, DeliveryJob>();
  for (const j of jobs) {
    const seen = byId.get(j.jobId);
    if (!seen || j.attempts > seen.attempts) byId.set(j.jobId, j);
  }
  return [...byId.values()];
}

/**
 * Retry-Message: deferred recipients are tried now. A copy of the newest queued job goes out
 * without notBefore and with the next attempt number; then the rows move to that number. Deliver
 * treats a job whose attempt count is below its row's as superseded, so the delayed original does
 * nothing when it wakes instead of sending a second time. The copy is sent before the rows move:
 * a crash between leaves a duplicate job that the rows make harmless, never rows no job serves.
 * The forced try takes an attempt number of its own, so RetryCount counts it twice.
 */
export async function retryMessage(deps: AdminDeps, messageId: string): Promise<AdminResult> {
  const rows = await rowsOf(deps, messageId);
  if (rows.length === 0) return { kind: "not-found", messageId };
  if (!deps.jobs)
    return {
      kind: "unsupported",
      messageId,
      reason:
        "retrying now needs the queued delivery job, and SQS lets nobody read a delayed message; the message is retried at its NextRetryTime",
    };
  const deferred = rows.filter((r) => r.status === "Deferred");
  if (deferred.length === 0)
    return { kind: "nothing-to-do", messageId, reason: `nothing to retry (${describe(rows)})` };
  const jobs = newestPerJob(await deps.jobs.forMessage(messageId));
  const at = deps.clock.now().toISOString();
  const sent: string[] = [];
  const retried: string[] = [];
  for (const job of jobs) {
    const owned = deferred.filter(
      (r) =>
        r.attempts <= job.attempts &&
        job.recipients.some((x) => x.toLowerCase() === r.recipient.toLowerCase()),
    );
    if (owned.length === 0) continue;
    const attempts = job.attempts + 1;
    const copy: DeliveryJob = { ...job, recipients: owned.map((r) => r.recipient), attempts };
    delete copy.notBefore;
    await deps.deliveryQueue.send(copy);
    // The copy sent now is the job's newest: a second Retry before it settles starts from it.
    await keepRetryJob(deps.messages, copy);
    sent.push(job.jobId);
    for (const r of owned) {
      const patch = { attempts, nextRetryAt: at, updatedAt: at };
      if (
        !(await deps.tracking.update(messageId, r.recipient, patch, { ifStatusIn: ["Deferred"] }))
      )
        continue;
      retried.push(r.recipient);
      await event(deps, r, "RETRY", `retry now requested by the administrator (job ${job.jobId})`);
    }
  }
  if (sent.length === 0)
    return {
      kind: "nothing-to-do",
      messageId,
      reason: "no queued delivery job found for the deferred recipients (one may be in flight now)",
    };
  return { kind: "done", messageId, recipients: retried, jobs: sent };
}

/** The original for an NDR: a queued or parked job's body, else the claim-checked body, else headers unknown. */
async function originalBody(deps: AdminDeps, messageId: string, rows: RecipientRow[]) {
  const queued = (await deps.jobs?.forMessage(messageId)) ?? [];
  if (queued[0]) return queued[0].body;
  for (const jobId of new Set(rows.flatMap((r) => (r.jobId ? [r.jobId] : [])))) {
    const held = await readHeldJob(deps.messages, jobId);
    if (held) return held.body;
  }
  try {
    await deps.messages.get(messageId);
    return { storeKey: messageId } satisfies BodyRef;
  } catch {
    return { inline: "" } satisfies BodyRef;
  }
}

/**
 * Remove-Message: every recipient not yet final fails with LastError "Removed by administrator";
 * with `withNdr` the sender gets an NDR first (a crash repeats the report rather than losing it).
 * Parked jobs are deleted, and the claim-checked body once every row is final. Queued jobs of the
 * message find only final rows and do nothing.
 */
export async function removeMessage(
  deps: AdminDeps,
  messageId: string,
  options: { withNdr?: boolean } = {},
): Promise<AdminResult> {
  const rows = await rowsOf(deps, messageId);
  if (rows.length === 0) return { kind: "not-found", messageId };
  const targets = rows.filter((r) => REMOVABLE.includes(r.status));
  if (targets.length === 0)
    return { kind: "nothing-to-do", messageId, reason: `already final (${describe(rows)})` };
  const now = deps.clock.now();
  const first = targets[0] as RecipientRow;
  let ndr: DsnResult | undefined;
  if (options.withNdr) {
    const settings = (await deps.records.get()).settings;
    const recipients: DsnRecipient[] = targets.map((r) => ({
      recipient: r.recipient,
      action: "failed",
      status: REMOTE_PERMANENT.removedByAdmin.enhanced,
      diagnostic: REMOTE_PERMANENT.removedByAdmin,
      lastAttemptAt: now,
    }));
    const body = await originalBody(deps, messageId, rows);
    const original = { id: messageId, sender: first.sender, receivedAt: first.receivedAt, body };
    ndr = await sendDsn(deps, settings, "failure", original, recipients);
  }
  const at = now.toISOString();
  const removed: string[] = [];
  for (const r of targets) {
    const patch = { status: "Failed" as const, lastError: REMOVED_LAST_ERROR, updatedAt: at };
    if (!(await deps.tracking.update(messageId, r.recipient, patch, { ifStatusIn: REMOVABLE })))
      continue;
    removed.push(r.recipient);
    const withNdr = ndr?.sent ? `, NDR ${ndr.dsnMessageId}` : "";
    await event(deps, r, "REMOVE", `${REMOVED_LAST_ERROR}${withNdr}`);
  }
  for (const jobId of new Set(rows.flatMap((r) => (r.jobId ? [r.jobId] : [])))) {
    await deps.messages.delete(heldJobKey(jobId));
    await dropRetryJob(deps.messages, jobId);
  }
  await dropBodyIfDone(deps.tracking, deps.messages, messageId, { storeKey: messageId });
  logOf(deps).info("message removed by the administrator", { messageId, removed });
  const result: AdminResult = { kind: "done", messageId, recipients: removed, jobs: [] };
  if (ndr) result.ndr = ndr;
  return result;
}
