// After an attempt: per-recipient tracking (Delivered, Failed, Deferred, Expired), the retry job, NDRs and delay DSNs.
import type { DsnRecipient } from "../dsn.ts";
import type { DeliveryJob, RecipientOutcome } from "../message.ts";
import { formatLastError } from "../outcome.ts";
import type { RecipientRow, RecipientStatus } from "../ports.ts";
import { MAX_DELAY_SECONDS } from "../queue-limits.ts";
import type { TransportSettings } from "../records/transport-settings.ts";
import { formatReply, REMOTE_PERMANENT } from "../replies.ts";
import { delayDsnDue, expiresAt, nextAttemptAt } from "../retry.ts";
import { dropRetryJob, keepRetryJob } from "./admin-hold.ts";
import { dropBodyIfDone } from "./body.ts";
import { type OriginalMessage, sendDsn } from "./bounce.ts";
import { type CountedEvent, countEvent, deliveryDimensions } from "./counts.ts";
import type { DeliverDeps } from "./deps.ts";
import { relayedRecipients } from "./extensions.ts";
import { publishOutcome } from "./feedback.ts";

/** Rows delivery may still change; Suspended (admin hold, poison) and final rows are left alone. */
export const ACTIVE_STATUSES: RecipientStatus[] = ["Queued", "Routed", "Deferred"];

export function queueDelaySeconds(until: Date, now: Date): number {
  const s = Math.ceil((until.getTime() - now.getTime()) / 1000);
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, s));
}

export interface SettleResult {
  delivered: string[];
  failed: string[];
  deferred: string[];
  expired: string[];
  nextAttemptAt?: string;
}

/** "mx1.contoso.com[10.0.0.5]" names the MTA as "mx1.contoso.com" in Remote-MTA. */
const mtaName = (remoteHost: string | undefined) => remoteHost?.replace(/\[[^\]]*\]$/, "");

function dsnRecipient(
  o: RecipientOutcome,
  action: DsnRecipient["action"],
  status: string,
  at: Date,
) {
  const r: DsnRecipient = {
    recipient: o.recipient,
    action,
    status,
    diagnostic: o.reply,
    lastAttemptAt: at,
  };
  const mta = mtaName(o.remoteHost);
  if (mta) r.remoteMta = mta;
  return r;
}

/**
 * RFC 3464 §2.3.4: a delayed recipient carries a 4.x.x status. A host-level refusal we retry
 * (e.g. "535 5.7.8" from a smart host) keeps its subject and detail with the transient class.
 */
export const delayedStatus = (enhanced: string): string =>
  enhanced.startsWith("4.") ? enhanced : `4.${enhanced.split(".").slice(1).join(".")}`;

export function originalOf(job: DeliveryJob): OriginalMessage {
  return {
    id: job.messageId,
    sender: job.mailFrom,
    receivedAt: job.receivedAt,
    body: job.body,
    ...(job.dsn ? { dsn: job.dsn } : {}),
    ...(job.rcptDsn ? { rcptDsn: job.rcptDsn } : {}),
  };
}

/** The TLS policy that applied to the attempt, kept on the row for `relay message get`. */
const tlsOf = (o: RecipientOutcome): Partial<RecipientRow> =>
  o.tlsPolicy ? { tlsPolicy: o.tlsPolicy } : {};

async function mark(
  deps: DeliverDeps,
  settings: TransportSettings,
  job: DeliveryJob,
  o: RecipientOutcome,
  patch: Partial<RecipientRow>,
  event: CountedEvent,
  detail: string,
): Promise<void> {
  // What happened is recorded even if an admin suspended the row during the attempt: a delivered,
  // failed (NDR sent) or expired recipient stays so. A deferral leaves a Suspended row alone; its
  // retry job finds it Suspended and is held (see deliver).
  // The event rides on the row's write: one write per recipient outcome.
  const ok = await deps.tracking.update(job.messageId, o.recipient, patch, {
    ifStatusIn: event === "DEFER" ? ACTIVE_STATUSES : [...ACTIVE_STATUSES, "Suspended"],
    event: { at: deps.clock.now().toISOString(), event, source: "SMTP", detail },
  });
  if (!ok) return;
  // Counted once per recipient outcome: a redelivered job whose rows are already final is not.
  countEvent(deps, event, deliveryDimensions(job.connector, job.nextHop, job.nextHopKey));
  await publishOutcome(deps, settings, job, o, event, patch);
}

/**
 * Records the delivered recipients among `outcomes` (row Delivered, DELIVER event, count and
 * event) and makes that durable before it returns. A job that comes back after a crash skips a
 * Delivered row, so the time between the remote 250 and this record is the only window in which a
 * crash sends a message twice (RFC 1047's duplicate window): deliver calls this as each
 * transaction ends, before any other bookkeeping of the attempt. Returns the recipients recorded.
 */
export async function recordDelivered(
  deps: DeliverDeps,
  settings: TransportSettings,
  job: DeliveryJob,
  outcomes: RecipientOutcome[],
  now: Date,
): Promise<string[]> {
  const delivered = outcomes.filter((x) => x.status === "delivered");
  if (delivered.length === 0) return [];
  const attempts = job.attempts + 1;
  const at = now.toISOString();
  for (const o of delivered)
    await mark(
      deps,
      settings,
      job,
      o,
      { status: "Delivered", attempts, updatedAt: at, ...tlsOf(o) },
      "DELIVER",
      `${o.remoteHost ?? ""}: ${formatReply(o.reply)}${o.tlsPolicy ? `; TLS policy: ${o.tlsPolicy}` : ""}`,
    );
  await deps.tracking.flush?.();
  return delivered.map((o) => o.recipient);
}

/**
 * Order, for at-least-once queues without transactions: delivered rows first, made durable at
 * once (a redelivered job must never send to them again); then the retry job, DSNs and NDRs; only
 * then the rows that depend on them, so a crash duplicates a retry or a report instead of losing
 * it. Delivered recipients in `recorded` were recorded already, as their transaction ended.
 */
export async function settle(
  deps: DeliverDeps,
  settings: TransportSettings,
  job: DeliveryJob,
  outcomes: RecipientOutcome[],
  now: Date,
  recorded: ReadonlySet<string> = new Set(),
): Promise<SettleResult> {
  const at = now.toISOString();
  const attempts = job.attempts + 1;
  const receivedAt = new Date(job.receivedAt);
  const result: SettleResult = { delivered: [], failed: [], deferred: [], expired: [] };
  const lastError = (o: RecipientOutcome) =>
    formatLastError(o.remoteHost, o.reply, o.status === "delivered" ? undefined : o.detail);

  const delivered = outcomes.filter((x) => x.status === "delivered");
  result.delivered.push(...delivered.map((o) => o.recipient));
  await recordDelivered(
    deps,
    settings,
    job,
    delivered.filter((o) => !recorded.has(o.recipient)),
    now,
  );

  // NOTIFY=SUCCESS: a relay DSN for recipients the next hop will not report on (RFC 3461 §5.2.2).
  const relayed = relayedRecipients(outcomes, now);
  if (relayed.length && job.rcptDsn)
    await sendDsn(deps, settings, "success", originalOf(job), relayed);

  const permanent = outcomes.filter((o) => o.status === "permanent");
  const transient = outcomes.filter((o) => o.status === "transient");
  const next = transient.length ? nextAttemptAt(settings, receivedAt, attempts, now) : undefined;
  const deferred = next instanceof Date ? transient : [];
  const expired = next === "expire" ? transient : [];

  if (next instanceof Date && deferred.length) {
    const delayDue = delayDsnDue(settings, receivedAt, now, job.delayNotified ?? false);
    const retry: DeliveryJob = {
      ...job,
      recipients: deferred.map((o) => o.recipient),
      attempts,
      notBefore: next.toISOString(),
      delayNotified: (job.delayNotified ?? false) || delayDue,
    };
    await deps.deliveryQueue.send(retry, { delaySeconds: queueDelaySeconds(next, now) });
    await keepRetryJob(deps.messages, retry);
    result.nextAttemptAt = retry.notBefore;
    if (delayDue) {
      const until = expiresAt(settings, receivedAt);
      await sendDsn(
        deps,
        settings,
        "delay",
        originalOf(job),
        deferred.map((o) => ({
          ...dsnRecipient(o, "delayed", delayedStatus(o.reply.enhanced), now),
          willRetryUntil: until,
        })),
      );
    }
  }

  const ndr = [
    ...permanent.map((o) => dsnRecipient(o, "failed", o.reply.enhanced, now)),
    // Expiry reports 4.4.7 with the last remote reply as the diagnostic (what the sender needs).
    ...expired.map((o) => dsnRecipient(o, "failed", REMOTE_PERMANENT.expired.enhanced, now)),
  ];
  if (ndr.length) await sendDsn(deps, settings, "failure", originalOf(job), ndr);

  const expiredText = formatLastError(undefined, REMOTE_PERMANENT.expired);
  const finals: [RecipientOutcome[], RecipientStatus, "FAIL" | "EXPIRE", string[], string][] = [
    [permanent, "Failed", "FAIL", result.failed, ""],
    [expired, "Expired", "EXPIRE", result.expired, `${expiredText}; last error: `],
  ];
  for (const [list, status, event, into, prefix] of finals)
    for (const o of list) {
      into.push(o.recipient);
      const patch = { status, attempts, lastError: lastError(o), updatedAt: at, ...tlsOf(o) };
      await mark(deps, settings, job, o, patch, event, `${prefix}${lastError(o)}`);
    }
  for (const o of deferred) {
    result.deferred.push(o.recipient);
    const patch: Partial<RecipientRow> = {
      status: "Deferred",
      attempts,
      lastError: lastError(o),
      updatedAt: at,
      ...tlsOf(o),
      ...(result.nextAttemptAt ? { nextRetryAt: result.nextAttemptAt } : {}),
    };
    await mark(
      deps,
      settings,
      job,
      o,
      patch,
      "DEFER",
      `${lastError(o)}; next retry ${result.nextAttemptAt}`,
    );
  }
  // Nothing of this job waits any more: its kept retry (Retry-Message's copy) goes.
  if (deferred.length === 0) await dropRetryJob(deps.messages, job.jobId);
  await dropBodyIfDone(deps.tracking, deps.messages, job.messageId, job.body);
  return result;
}
