// Deliver's side of the suppression list and delivery events: skip suppressed recipients, record hard bounces, publish outcomes.
import {
  type DeliveryEventType,
  deliveryEvent,
  wantsDeferredEvent,
} from "../events/delivery-event.ts";
import type { DeliveryJob, RecipientOutcome } from "../message.ts";
import type { RecordSet } from "../records/record-set.ts";
import type { TransportSettings } from "../records/transport-settings.ts";
import { suppressedOutcome, suppressionFor } from "../suppression/list.ts";
import type { CountedEvent } from "./counts.ts";
import { type DeliverDeps, logOf } from "./deps.ts";

const suppressionOn = (set: RecordSet, job: DeliveryJob): boolean =>
  set.sendConnectors.find((c) => c.name === job.connector && c.enabled)?.suppressionEnabled ??
  false;

/**
 * Splits the open recipients into those to attempt and those on the suppression list, which are
 * not attempted (SES: "the message is not sent"). A list that cannot be read fails open: mail is
 * attempted, because a missed suppression costs one bounce and a wrong one costs a message.
 */
export async function screenSuppressed(
  deps: DeliverDeps,
  set: RecordSet,
  job: DeliveryJob,
  open: string[],
): Promise<{ open: string[]; suppressed: RecipientOutcome[] }> {
  const store = deps.suppression;
  if (!store || !suppressionOn(set, job)) return { open, suppressed: [] };
  const attempt: string[] = [];
  const suppressed: RecipientOutcome[] = [];
  for (const recipient of open) {
    const entry = await store.get(recipient).catch((error: unknown) => {
      logOf(deps).warn("suppression list unavailable; attempting the recipient", {
        jobId: job.jobId,
        error,
      });
      return undefined;
    });
    if (entry) suppressed.push(suppressedOutcome(recipient, entry));
    else attempt.push(recipient);
  }
  if (suppressed.length)
    logOf(deps).info("recipients suppressed", {
      jobId: job.jobId,
      messageId: job.messageId,
      recipients: suppressed.map((o) => o.recipient),
    });
  return { open: attempt, suppressed };
}

/** Puts each remote hard bounce of the attempt on the list. A failed write is logged, never retried into a resend. */
export async function recordHardBounces(
  deps: DeliverDeps,
  set: RecordSet,
  job: DeliveryJob,
  outcomes: RecipientOutcome[],
): Promise<void> {
  const store = deps.suppression;
  if (!store || !suppressionOn(set, job)) return;
  const context = { messageId: job.messageId, connector: job.connector, now: deps.clock.now() };
  for (const o of outcomes) {
    const entry = suppressionFor(set.settings, o, context);
    if (!entry) continue;
    try {
      await store.put(entry);
      logOf(deps).info("recipient suppressed after a hard bounce", {
        recipient: entry.recipient,
        reply: entry.reason,
        until: entry.expiresAt,
      });
    } catch (error) {
      logOf(deps).warn("suppression list unavailable; hard bounce not recorded", {
        recipient: entry.recipient,
        error,
      });
    }
  }
}

const TYPES: Partial<Record<CountedEvent, DeliveryEventType>> = {
  DELIVER: "delivered",
  DEFER: "deferred",
  FAIL: "bounced",
  EXPIRE: "expired",
};

/** One event for a recipient whose row settle has just changed (so a redelivered job adds none). */
export async function publishOutcome(
  deps: DeliverDeps,
  settings: TransportSettings,
  job: DeliveryJob,
  o: RecipientOutcome,
  counted: CountedEvent,
  row: { attempts?: number; nextRetryAt?: string },
): Promise<void> {
  // Reports (NDRs, DSNs; MAIL FROM:<>) are not an application's mail: SES publishes none for them either.
  if (!deps.events || job.mailFrom === "") return;
  let type = TYPES[counted];
  if (!type) return;
  if (type === "bounced" && o.status === "permanent" && o.suppressedSince) type = "suppressed";
  const attempt = row.attempts ?? job.attempts + 1;
  if (type === "deferred" && !wantsDeferredEvent(attempt, settings.deferredEventEvery)) return;
  const event = deliveryEvent(job, o, type, {
    time: deps.clock.now().toISOString(),
    attempt,
    ...(row.nextRetryAt ? { nextRetryAt: row.nextRetryAt } : {}),
  });
  try {
    await deps.events.publish([event]);
  } catch (error) {
    logOf(deps).error("delivery event not published", { eventId: event.eventId, error });
  }
}
