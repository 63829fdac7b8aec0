// Counts tracking events as CloudWatch metrics (Embedded Metric Format on stdout), for the dashboard's delivery, deferral and bounce rates.

import type { Metrics } from "#core/metrics.ts";
import type {
  RecipientRow,
  RecipientStatus,
  TrackingEvent,
  TrackingEventType,
  TrackingStore,
} from "#core/ports.ts";

/** Metric names per tracking event: a FAIL is a bounced recipient (NDR), a DEFER a transient failure. */
export const EVENT_METRICS: Partial<Record<TrackingEventType, string>> = {
  RECEIVE: "Received",
  ROUTE: "Routed",
  DELIVER: "Delivered",
  DEFER: "Deferred",
  FAIL: "Failed",
  EXPIRE: "Expired",
  DSN: "DsnSent",
  DLQ: "DeadLettered",
};

export const DEFAULT_METRICS_NAMESPACE = "ConnectorRelay";

/**
 * A TrackingStore that passes every call to `inner` and counts events by type. `flush` writes one
 * EMF line (CloudWatch turns log lines into metrics, so a Lambda makes no extra API call) and
 * resets the counts; call it at the end of each invocation.
 */
export class MetricsTrackingStore implements TrackingStore, Metrics {
  readonly #inner: TrackingStore;
  readonly #counts = new Map<string, number>();
  readonly #namespace: string;
  readonly #write: (line: string) => void;

  constructor(
    inner: TrackingStore,
    options: { namespace?: string; write?: (line: string) => void } = {},
  ) {
    this.#inner = inner;
    this.#namespace = options.namespace ?? DEFAULT_METRICS_NAMESPACE;
    this.#write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  /**
   * The Metrics port (e.g. DkimSignFailed). Counted without its dimensions: this store writes one
   * dimensionless EMF document per invocation; the domain is in the log line beside it.
   */
  count(name: string, _dimensions?: Record<string, string>, value = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + value);
  }

  async addEvent(event: TrackingEvent): Promise<void> {
    await this.#inner.addEvent(event);
    const name = EVENT_METRICS[event.event];
    if (name) this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
  }

  put(row: RecipientRow): Promise<void> {
    return this.#inner.put(row);
  }
  create(row: RecipientRow): Promise<boolean> {
    return this.#inner.create(row);
  }
  update(
    messageId: string,
    recipient: string,
    patch: Partial<RecipientRow>,
    options?: { ifStatusIn?: RecipientStatus[] },
  ): Promise<boolean> {
    return this.#inner.update(messageId, recipient, patch, options);
  }
  get(messageId: string, recipient: string): Promise<RecipientRow | undefined> {
    return this.#inner.get(messageId, recipient);
  }
  listByMessage(messageId: string): Promise<RecipientRow[]> {
    return this.#inner.listByMessage(messageId);
  }
  listActive(): Promise<RecipientRow[]> {
    return this.#inner.listActive();
  }
  events(query: { messageId?: string; sender?: string; recipient?: string }) {
    return this.#inner.events(query);
  }

  /** The EMF document for the counts so far, or undefined when nothing happened. */
  emf(now = Date.now()): string | undefined {
    if (this.#counts.size === 0) return undefined;
    const metrics = [...this.#counts.keys()].map((Name) => ({ Name, Unit: "Count" }));
    return JSON.stringify({
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [{ Namespace: this.#namespace, Dimensions: [[]], Metrics: metrics }],
      },
      ...Object.fromEntries(this.#counts),
    });
  }

  flush(now = Date.now()): void {
    const line = this.emf(now);
    this.#counts.clear();
    if (line) this.#write(line);
  }
}
