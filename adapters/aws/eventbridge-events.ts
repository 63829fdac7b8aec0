// Delivery events to the stack's EventBridge bus (as SES publishes to EventBridge): one entry per event, PutEvents in tens.
import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import type {
  DeliveryEvent,
  DeliveryEventType,
  EventPublisher,
} from "#core/events/delivery-event.ts";

/** The entries' `source`; rules match on it and on `detail-type`. */
export const EVENT_SOURCE = "connector-relay";

/** `detail-type` per event type, worded like SES's ("Email Bounced"): "Recipient Bounced". */
export const DETAIL_TYPES: Record<DeliveryEventType, string> = {
  delivered: "Recipient Delivered",
  deferred: "Recipient Deferred",
  bounced: "Recipient Bounced",
  expired: "Recipient Expired",
  suppressed: "Recipient Suppressed",
};

/** PutEvents takes at most 10 entries per call. */
const MAX_ENTRIES = 10;

export class PublishError extends Error {
  override readonly name = "PublishError";
}

export interface EventBridgePublisherOptions {
  client: EventBridgeClient;
  /** The bus's name or ARN (the stack's EventBus output). */
  eventBusName: string;
}

/**
 * The SDK retries throttling and 5xx itself; entries PutEvents still reports as failed
 * (FailedEntryCount, e.g. ThrottlingException per entry) are sent once more, then the call rejects
 * naming the first error code, and deliver logs it.
 */
export class EventBridgePublisher implements EventPublisher {
  readonly #client: EventBridgeClient;
  readonly #bus: string;

  constructor(options: EventBridgePublisherOptions) {
    this.#client = options.client;
    this.#bus = options.eventBusName;
  }

  async publish(events: DeliveryEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += MAX_ENTRIES)
      await this.#put(events.slice(i, i + MAX_ENTRIES), 1);
  }

  async #put(events: DeliveryEvent[], retries: number): Promise<void> {
    const out = await this.#client.send(
      new PutEventsCommand({
        Entries: events.map((e) => ({
          EventBusName: this.#bus,
          Source: EVENT_SOURCE,
          DetailType: DETAIL_TYPES[e.type],
          Detail: JSON.stringify(e),
          Time: new Date(e.time),
          Resources: [],
        })),
      }),
    );
    if (!out.FailedEntryCount) return;
    const entries = out.Entries ?? [];
    const failed = events.filter((_, i) => entries[i]?.ErrorCode !== undefined);
    const code = entries.find((e) => e.ErrorCode)?.ErrorCode ?? "unknown";
    if (retries > 0 && failed.length) return this.#put(failed, retries - 1);
    throw new PublishError(
      `PutEvents refused ${out.FailedEntryCount} of ${events.length}: ${code}`,
    );
  }
}
