// A local queue with SQS semantics (delay, visibility timeout, receive count, dead-letter) on the
// queue database: what producers, the local runner and the admin CLI hold.
import type { Clock, QueueProducer } from "#core/ports.ts";
import type { QueueConsumer, ReceivedMessage } from "../queue-consumer.ts";
import { QueueDatabase, type QueueStats } from "./queue-db.ts";
import { QueueServer, type QueueService } from "./queue-server.ts";
import { importSpool } from "./spool-import.ts";

export type { QueueStats } from "./queue-db.ts";

export interface LocalQueueOptions {
  clock?: Clock;
  visibilityTimeoutSeconds?: number;
  /** After this many receives a message moves to the queue named `deadLetter` (SQS redrive policy). */
  maxReceiveCount?: number;
  deadLetter?: string;
}

/** A received message that also carries its body as the JSON text stored, for consumers that pass it on. */
export interface LocalReceived<T> extends ReceivedMessage<T> {
  text: string;
}

export interface StoredMessage<T> {
  messageId: string;
  receiveCount: number;
  visibleAt: number;
  sentAt: number;
  body: T;
}

const systemClock: Clock = { now: () => new Date() };

/** The body parsed on first read only: the local runner hands the text on and never needs it. */
function received<T>(m: Omit<LocalReceived<T>, "body">): LocalReceived<T> {
  let body: T | undefined;
  let parsed = false;
  return Object.defineProperty(m, "body", {
    enumerable: true,
    get() {
      if (!parsed) {
        body = JSON.parse(m.text) as T;
        parsed = true;
      }
      return body;
    },
  }) as LocalReceived<T>;
}

export class LocalQueue<T> implements QueueProducer<T>, QueueConsumer<T> {
  readonly name: string;
  readonly #service: QueueService;
  readonly #clock: Clock;
  readonly #visibility: number;
  readonly #maxReceive: number | undefined;
  readonly #deadLetter: string | undefined;

  constructor(service: QueueService, name: string, options: LocalQueueOptions = {}) {
    this.#service = service;
    this.name = name;
    this.#clock = options.clock ?? systemClock;
    this.#visibility = options.visibilityTimeoutSeconds ?? 30;
    this.#maxReceive = options.maxReceiveCount;
    this.#deadLetter = options.deadLetter;
  }

  #now(): number {
    return this.#clock.now().getTime();
  }

  /** Resolves once the message is committed (fsynced) with everything else of its turn. */
  send(body: T, options: { delaySeconds?: number } = {}): Promise<string> {
    return this.sendText(JSON.stringify(body), options);
  }

  /** `send` for a body already serialised. */
  sendText(text: string, options: { delaySeconds?: number } = {}): Promise<string> {
    const delayMs = Math.max(0, options.delaySeconds ?? 0) * 1000;
    return this.#service.request({ op: "send", queue: this.name, text, now: this.#now(), delayMs });
  }

  async receive(
    max = 10,
    visibilityTimeoutSeconds = this.#visibility,
  ): Promise<LocalReceived<T>[]> {
    const raw = await this.#service.request({
      op: "receive",
      queue: this.name,
      max,
      visibilityMs: visibilityTimeoutSeconds * 1000,
      now: this.#now(),
      ...(this.#maxReceive !== undefined ? { maxReceiveCount: this.#maxReceive } : {}),
      ...(this.#deadLetter ? { deadLetter: this.#deadLetter } : {}),
    });
    return raw.map((m) => received<T>(m));
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.#service.request({ op: "delete", queue: this.name, handle: receiptHandle });
  }

  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    const visibleAt = this.#now() + seconds * 1000;
    await this.#service.request({
      op: "changeVisibility",
      queue: this.name,
      handle: receiptHandle,
      visibleAt,
    });
  }

  /**
   * Makes every in-flight message visible now. Local mode calls it once at start, holding the
   * RELAY_HOME lock: whatever a previous process had received died with it, so its mail is retried
   * at once instead of after the visibility timeout. Delayed messages keep their delay.
   */
  releaseInFlight(): Promise<number> {
    return this.#service.request({ op: "releaseInFlight", queue: this.name, now: this.#now() });
  }

  /** Resolves when a message may be available: after a commit made one visible, when the next is due, or after `maxWaitMs`. */
  waitForMessages(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        off();
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const off = this.#service.onAvailable((q) => (q === this.name || q === "*") && done());
      signal?.addEventListener("abort", done);
      if (signal?.aborted) return done();
      this.#service.request({ op: "nextVisibleAt", queue: this.name }).then(
        (next) => {
          const wait = Math.min(maxWaitMs, (next ?? Number.POSITIVE_INFINITY) - this.#now());
          if (wait <= 0) done();
          else timer = setTimeout(done, wait);
        },
        () => (timer = setTimeout(done, maxWaitMs)),
      );
    });
  }

  stats(): Promise<QueueStats> {
    return this.#service.request({ op: "stats", queue: this.name, now: this.#now() });
  }

  /** Every message with its body, for admin views. */
  async list(): Promise<StoredMessage<T>[]> {
    const rows = await this.#service.request({ op: "list", queue: this.name });
    return rows.map(({ text, ...r }) => ({ ...r, body: JSON.parse(text) as T }));
  }

  /** Removes one message by id (admin action); resolves whether it was there. */
  remove(messageId: string): Promise<boolean> {
    return this.#service.request({ op: "remove", queue: this.name, id: messageId });
  }

  /** Moves one message to `target`, visible now with no receives; resolves whether it was here. */
  moveTo(messageId: string, target: string): Promise<boolean> {
    return this.#service.request({
      op: "move",
      queue: this.name,
      id: messageId,
      to: target,
      now: this.#now(),
    });
  }

  /** Moves every message of this queue (a dead-letter queue) back to `target` (SQS redrive); resolves how many. */
  async redriveTo(target: LocalQueue<T>): Promise<number> {
    let n = 0;
    for (const m of await this.list()) if (await this.moveTo(m.messageId, target.name)) n++;
    return n;
  }

  /** How many messages the queue holds, in any state. */
  async size(): Promise<number> {
    return (await this.stats()).total;
  }
}

/** The queue database opened in this thread: for the CLI, tests and a listener process of its own. */
export interface QueueStore {
  service: QueueServer;
  /** Old spool files moved in when it opened. */
  imported: number;
  queue<T>(name: string, options?: LocalQueueOptions): LocalQueue<T>;
  close(): void;
}

/** Opens (creating if needed) the queue database at `path`, importing an old spool beside it first. */
export function openQueueStore(path: string): QueueStore {
  const db = new QueueDatabase(path);
  let imported: number;
  try {
    imported = importSpool(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  const service = new QueueServer(db);
  return {
    service,
    imported,
    queue: <T>(name: string, options?: LocalQueueOptions) =>
      new LocalQueue<T>(service, name, options),
    close: () => service.close(),
  };
}
