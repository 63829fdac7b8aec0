// Delivery events for applications (SES's event publishing): one JSON event per recipient outcome, and the port that publishes them.
import type { DeliveryJob, RecipientOutcome } from "../message.ts";
import { formatReply } from "../replies.ts";

export const DELIVERY_EVENT_TYPES = [
  "delivered",
  "deferred",
  "bounced",
  "expired",
  "suppressed",
] as const;
export type DeliveryEventType = (typeof DELIVERY_EVENT_TYPES)[number];

/**
 * One recipient's outcome. `eventId` is the same for the same outcome however often it is
 * published (at-least-once queues): consumers deduplicate on it.
 */
export interface DeliveryEvent {
  eventId: string;
  type: DeliveryEventType;
  /** ISO 8601. */
  time: string;
  messageId: string;
  /** The client's RFC 3461 ENVID, when it gave one: how an application finds its own message. */
  envid?: string;
  /** Envelope sender; "" for the null sender. */
  sender: string;
  recipient: string;
  connector: string;
  nextHop: string;
  /** The host that answered, e.g. "mx1.fabrikam.com[192.0.2.25]"; absent when none did. */
  remoteHost?: string;
  /** The reply that decided it, e.g. "550 5.1.1 User unknown". */
  reply: string;
  enhancedStatus: string;
  /** 1 for the first attempt. A suppressed recipient reports the attempt that was skipped. */
  attempt: number;
  /** Deferred: when the next attempt is due. */
  nextRetryAt?: string;
  /** Suppressed: since when the address is on the list. */
  suppressedSince?: string;
}

/**
 * Publishes delivery events: EventBridge in AWS, a durable webhook outbox locally. Resolves once
 * the events are accepted durably (PutEvents answered without failed entries; the outbox row
 * committed); rejects otherwise. The deliver use case logs a rejection and carries on: events
 * never hold up or fail a delivery.
 */
export interface EventPublisher {
  publish(events: DeliveryEvent[]): Promise<void>;
}

/** First deferral, then every Nth attempt: enough to watch a stuck recipient without a flood. */
export const wantsDeferredEvent = (attempt: number, every: number): boolean =>
  attempt === 1 || attempt % every === 0;

export function deliveryEvent(
  job: DeliveryJob,
  outcome: RecipientOutcome,
  type: DeliveryEventType,
  at: { time: string; attempt: number; nextRetryAt?: string },
): DeliveryEvent {
  const e: DeliveryEvent = {
    eventId: `${job.messageId}:${outcome.recipient.toLowerCase()}:${at.attempt}:${type}`,
    type,
    time: at.time,
    messageId: job.messageId,
    sender: job.mailFrom,
    recipient: outcome.recipient,
    connector: job.connector,
    nextHop: job.nextHopKey,
    reply: formatReply(outcome.reply),
    enhancedStatus: outcome.reply.enhanced,
    attempt: at.attempt,
  };
  if (job.dsn?.envid) e.envid = job.dsn.envid;
  if (outcome.remoteHost) e.remoteHost = outcome.remoteHost;
  if (type === "deferred" && at.nextRetryAt) e.nextRetryAt = at.nextRetryAt;
  if (outcome.status === "permanent" && outcome.suppressedSince)
    e.suppressedSince = outcome.suppressedSince;
  return e;
}
