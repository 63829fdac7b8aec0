// In-memory queue with SQS semantics (delay, visibility timeout, receive count, dead-letter), for tests and as the model the durable local spool follows.
import { QueueUnavailableError } from "#core/errors.ts";
import type { Clock, QueueProducer } from "#core/ports.ts";
import type { QueueConsumer, ReceivedMessage } from "../queue-consumer.ts";

export type { ReceivedMessage };

interface Entry<T> {
  id: string;
  body: T;
  visibleAt: number;
  receiveCount: number;
  sentAt: number;
  handle?: string;
}

export interface MemoryQueueOptions {
  clock?: Clock;
  visibilityTimeoutSeconds?: number;
  /** After this many receives a message goes to the dead-letter queue instead (SQS redrive policy). */
  maxReceiveCount?: number;
  deadLetter?: MemoryQueue<unknown>;
}

const systemClock: Clock = { now: () => new Date() };

export class MemoryQueue<T> implements QueueProducer<T>, QueueConsumer<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #clock: Clock;
  readonly #visibility: number;
  readonly #maxReceive: number | undefined;
  readonly #dlq: MemoryQueue<unknown> | undefined;
  #seq = 0;
  /** When set, `send` rejects with this error (fault injection in tests). */
  failSends: Error | undefined;

  constructor(options: MemoryQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#visibility = options.visibilityTimeoutSeconds ?? 30;
    this.#maxReceive = options.maxReceiveCount;
    this.#dlq = options.deadLetter;
  }

  async send(body: T, options: { delaySeconds?: number } = {}): Promise<string> {
    if (this.failSends) throw new QueueUnavailableError(this.failSends.message);
    const id = `m${++this.#seq}-${crypto.randomUUID()}`;
    const now = this.#clock.now().getTime();
    // Deep copy, as a real queue serialises: a later change by the caller must not alter the message.
    this.#entries.set(id, {
      id,
      body: structuredClone(body),
      visibleAt: now + (options.delaySeconds ?? 0) * 1000,
      receiveCount: 0,
      sentAt: now,
    });
    return id;
  }

  receive(max = 10, visibilityTimeoutSeconds = this.#visibility): ReceivedMessage<T>[] {
    const now = this.#clock.now().getTime();
    const out: ReceivedMessage<T>[] = [];
    for (const e of this.#entries.values()) {
      if (out.length >= max) break;
      if (e.visibleAt > now) continue;
      if (this.#maxReceive !== undefined && e.receiveCount >= this.#maxReceive && this.#dlq) {
        this.#entries.delete(e.id);
        void this.#dlq.send(e.body);
        continue;
      }
      e.receiveCount += 1;
      e.visibleAt = now + visibilityTimeoutSeconds * 1000;
      e.handle = `${e.id}#${e.receiveCount}`;
      out.push({
        messageId: e.id,
        receiptHandle: e.handle,
        body: structuredClone(e.body),
        receiveCount: e.receiveCount,
        sentAt: e.sentAt,
      });
    }
    return out;
  }

  /** Removes a received message; a stale receipt handle (message received again since) is ignored, as in SQS. */
  delete(receiptHandle: string): void {
    const id = receiptHandle.split("#")[0] ?? "";
    const e = this.#entries.get(id);
    if (e && e.handle === receiptHandle) this.#entries.delete(id);
  }

  changeVisibility(receiptHandle: string, seconds: number): void {
    const id = receiptHandle.split("#")[0] ?? "";
    const e = this.#entries.get(id);
    if (e && e.handle === receiptHandle) e.visibleAt = this.#clock.now().getTime() + seconds * 1000;
  }

  /** Every message still in the queue (visible, delayed or in flight), oldest first. */
  peek(): Array<{ messageId: string; body: T; receiveCount: number }> {
    return [...this.#entries.values()].map((e) => ({
      messageId: e.id,
      body: structuredClone(e.body),
      receiveCount: e.receiveCount,
    }));
  }

  get size(): number {
    return this.#entries.size;
  }
}
