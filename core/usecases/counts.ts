// The counts the use cases publish through the metrics port: one per tracking event an operator graphs, with the dimensions they filter by.
import type { NextHop } from "../message.ts";
import { NO_METRICS } from "../metrics.ts";
import type { TrackingEventType } from "../ports.ts";
import type { RelayDeps } from "./deps.ts";

/**
 * Metric names per tracking event. Routed, Delivered, Deferred, Failed and Expired count
 * recipients; DsnSent and DeadLettered count messages. Failed is a bounced recipient (an
 * NDR was sent, or the sender was <>), Deferred a transient failure that will be retried, Expired
 * a recipient given up after the message expiration timeout (also an NDR).
 */
export const EVENT_METRICS = {
  ROUTE: "Routed",
  DELIVER: "Delivered",
  DEFER: "Deferred",
  FAIL: "Failed",
  EXPIRE: "Expired",
  DSN: "DsnSent",
  DLQ: "DeadLettered",
} as const satisfies Partial<Record<TrackingEventType, string>>;

export type CountedEvent = keyof typeof EVENT_METRICS;

/**
 * The dimensions of a count about delivery: the send connector, and the next hop when it is a
 * smart host (a few, fixed by the connector). A recipient domain is never a dimension: every
 * distinct value is a billed CloudWatch metric, and MX routes reach any domain on the Internet;
 * per-domain figures are in the "delivery attempt" log lines and `relay queue get`.
 */
export function deliveryDimensions(connector: string, nextHop: NextHop, nextHopKey: string) {
  const dims: Record<string, string> = { SendConnector: connector };
  if (nextHop.type === "smarthost") dims.NextHop = nextHopKey;
  return dims;
}

/** Counts one tracking event; metrics never fail mail flow (the adapters do not throw). */
export function countEvent(
  deps: RelayDeps,
  event: CountedEvent,
  dimensions?: Record<string, string>,
): void {
  (deps.metrics ?? NO_METRICS).count(EVENT_METRICS[event], dimensions);
}
