// Group commit for the local queues: every change requested in one event-loop turn, by any client,
// commits in one SQLite transaction with one fsync, and only then is any of them answered.
import { QueueUnavailableError } from "#core/errors.ts";
import type {
  QueueDatabase,
  QueuedRow,
  QueueStats,
  RawMessage,
  ReceiveOptions,
} from "./queue-db.ts";

/** What a client asks of the queues (plain data: it crosses threads). `now` is the client's clock. */
export type QueueRequest =
  | { op: "send"; queue: string; text: string; now: number; delayMs: number }
  | ({ op: "receive"; queue: string } & ReceiveOptions)
  | { op: "delete"; queue: string; handle: string }
  | { op: "changeVisibility"; queue: string; handle: string; visibleAt: number }
  | { op: "releaseInFlight"; queue: string; now: number }
  | { op: "move"; queue: string; id: string; to: string; now: number }
  | { op: "remove"; queue: string; id: string }
  | { op: "nextVisibleAt"; queue: string }
  | { op: "stats"; queue: string; now: number }
  | { op: "list"; queue: string };

export type QueueReply<R extends QueueRequest> = R["op"] extends "send"
  ? string
  : R["op"] extends "receive"
    ? RawMessage[]
    : R["op"] extends "stats"
      ? QueueStats
      : R["op"] extends "list"
        ? QueuedRow[]
        : R["op"] extends "nextVisibleAt"
          ? number | undefined
          : R["op"] extends "releaseInFlight"
            ? number
            : boolean;

/** The queues as a client sees them, in this thread or across one. */
export interface QueueService {
  request<R extends QueueRequest>(request: R): Promise<QueueReply<R>>;
  /** `listener(queue)` runs after a commit made a message of `queue` visible (or another process wrote). */
  onAvailable(listener: (queue: string) => void): () => void;
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  value: unknown;
}

/**
 * Reads answer at once. Writes run at once inside the turn's open transaction (so a second receive
 * in the same turn never takes what the first took) and are answered after its COMMIT; if anything
 * in the group fails, the whole group rolls back and every write of it is refused, so a client is
 * never told "done" about a change that is not on disk.
 */
export class QueueServer implements QueueService {
  readonly #db: QueueDatabase;
  readonly #listeners = new Set<(queue: string) => void>();
  #group: Waiter[] = [];
  #failed: Error | undefined;
  #available = new Set<string>();
  #version: number;
  readonly #poll: NodeJS.Timeout;

  constructor(db: QueueDatabase, options: { foreignPollMs?: number } = {}) {
    this.#db = db;
    this.#version = db.dataVersion();
    // Another process (the admin CLI) writing the file moves data_version: wake the consumers.
    this.#poll = setInterval(() => this.#checkForeign(), options.foreignPollMs ?? 500);
    this.#poll.unref();
  }

  onAvailable(listener: (queue: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  request<R extends QueueRequest>(r: R): Promise<QueueReply<R>> {
    const db = this.#db;
    try {
      switch (r.op) {
        case "nextVisibleAt":
          return Promise.resolve(db.nextVisibleAt(r.queue) as QueueReply<R>);
        case "stats":
          return Promise.resolve(db.stats(r.queue, r.now) as QueueReply<R>);
        case "list":
          return Promise.resolve(db.list(r.queue) as QueueReply<R>);
        case "receive": {
          // Nothing due: answer at once, without a transaction (idle consumers poll this).
          const next = db.nextVisibleAt(r.queue);
          if (next === undefined || next > r.now)
            return Promise.resolve([] as unknown as QueueReply<R>);
          return this.#write(r) as Promise<QueueReply<R>>;
        }
        default:
          return this.#write(r) as Promise<QueueReply<R>>;
      }
    } catch (error) {
      return Promise.reject(unavailable(error));
    }
  }

  #write(r: QueueRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, value: undefined };
      if (this.#group.length === 0) {
        this.#failed = undefined;
        setImmediate(() => this.#commit());
      }
      this.#group.push(waiter);
      if (this.#failed) return;
      try {
        if (!this.#db.db.isTransaction) {
          // A statement that failed may have ended the transaction (SQLITE_FULL rolls it back).
          if (this.#group.length > 1) throw new Error("the queue transaction was rolled back");
          this.#db.db.exec("BEGIN IMMEDIATE");
        }
        waiter.value = this.#apply(r);
      } catch (error) {
        this.#failed = unavailable(error);
      }
    });
  }

  #apply(r: QueueRequest): unknown {
    const db = this.#db;
    switch (r.op) {
      case "send":
        this.#available.add(r.queue);
        return db.send(r.queue, r.text, r.now, r.delayMs);
      case "receive": {
        const { messages, deadLettered } = db.receive(r.queue, r);
        if (deadLettered > 0 && r.deadLetter) this.#available.add(r.deadLetter);
        return messages;
      }
      case "delete":
        return db.delete(r.queue, r.handle);
      case "changeVisibility":
        this.#available.add(r.queue);
        return db.changeVisibility(r.queue, r.handle, r.visibleAt);
      case "releaseInFlight":
        this.#available.add(r.queue);
        return db.releaseInFlight(r.queue, r.now);
      case "move":
        this.#available.add(r.to);
        return db.move(r.queue, r.id, r.to, r.now);
      case "remove":
        return db.remove(r.queue, r.id);
      default:
        throw new Error(`unknown queue operation ${(r as { op: string }).op}`);
    }
  }

  #commit(): void {
    const group = this.#group;
    if (group.length === 0) return;
    this.#group = [];
    const db = this.#db.db;
    let failed = this.#failed;
    if (!failed) {
      try {
        db.exec("COMMIT"); // the fsync every waiter of this group shares
      } catch (error) {
        failed = unavailable(error);
      }
    }
    if (failed) {
      if (db.isOpen && db.isTransaction) db.exec("ROLLBACK");
      this.#available.clear();
      for (const w of group) w.reject(failed);
      return;
    }
    for (const w of group) w.resolve(w.value);
    this.#version = this.#db.dataVersion();
    const available = [...this.#available];
    this.#available.clear();
    for (const q of available) for (const l of this.#listeners) l(q);
  }

  #checkForeign(): void {
    if (this.#group.length > 0 || !this.#db.db.isOpen) return;
    try {
      const v = this.#db.dataVersion();
      if (v === this.#version) return;
      this.#version = v;
    } catch {
      return; // unreadable now; the next check tries again
    }
    for (const l of this.#listeners) l("*");
  }

  /** Stops watching for other writers; answers whatever is still pending, then closes the file. */
  close(): void {
    clearInterval(this.#poll);
    if (this.#group.length > 0) this.#commit();
    this.#db.close();
  }
}

const unavailable = (error: unknown) =>
  error instanceof QueueUnavailableError
    ? error
    : new QueueUnavailableError(`could not write the queue: ${(error as Error).message}`);
