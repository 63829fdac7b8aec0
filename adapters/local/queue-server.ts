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

/**
 * What a client asks of the queues (plain data: it crosses threads). `now` is the client's clock.
 * `sync: false` marks a change that may be answered before it is on disk (see QueueServer).
 */
export type QueueRequest = { sync?: false } & (
  | { op: "send"; queue: string; text: string; now: number; delayMs: number }
  | ({ op: "receive"; queue: string } & ReceiveOptions)
  | { op: "delete"; queue: string; handle: string }
  | { op: "changeVisibility"; queue: string; handle: string; visibleAt: number }
  | { op: "releaseInFlight"; queue: string; now: number }
  | { op: "move"; queue: string; id: string; to: string; now: number }
  | { op: "remove"; queue: string; id: string }
  | { op: "nextVisibleAt"; queue: string }
  | { op: "stats"; queue: string; now: number }
  | { op: "list"; queue: string }
);

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
  request: QueueRequest;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The longest a change answered before its sync (`sync: false`) stays off the disk. */
export const DEFERRED_SYNC_MS = 250;

/**
 * Group commit with durability where it is owed. Reads answer at once. Writes asked for in one
 * event-loop turn run in order in one transaction after that turn (so a second receive never takes
 * what the first took) and are answered after its COMMIT; if anything in the group fails, the
 * whole group rolls back and every write of it is refused, so a client is never told "done" about
 * a change that is not in the file.
 *
 * Only a commit that answers someone who will then forget their copy must be on disk before the
 * answer: the listener's submission (its client hears 250 and discards the message) and the admin
 * CLI. After such a commit the WAL is fdatasynced (QueueDatabase.syncLogNow) before anyone of the
 * group hears back. The delivery pipeline's own steps (receives, a route step's delivery jobs and
 * the delete of its submission, deletes after delivery) come with `sync: false`: their commit is in
 * the WAL (the page cache, so `kill -9` keeps it) and they are answered at once; the next client
 * commit's fdatasync covers them, since it flushes the whole WAL file, and at most
 * DEFERRED_SYNC_MS later an fdatasync on the thread pool does if no client commit came. After a
 * power loss the WAL is replayed up to its last intact commit, in order, so what can be missing is
 * only the newest pipeline steps, never one without those before it: a route step whose delete is
 * lost had its jobs lost too (the submission is routed again), a delivered job whose delete is lost
 * is delivered again; an acknowledged submission was on disk before its 250 and is never missing.
 * A submission thus never waits on a pipeline step's sync, only, at most, on the statements of a
 * group it shares.
 */
export class QueueServer implements QueueService {
  readonly #db: QueueDatabase;
  readonly #listeners = new Set<(queue: string) => void>();
  #group: Waiter[] = [];
  #available = new Set<string>();
  #version: number;
  readonly #poll: NodeJS.Timeout;
  /** Commits since the last fsync of the WAL; the timer that bounds how long they stay so. */
  #unsynced = false;
  #syncTimer: NodeJS.Timeout | undefined;

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

  #write(request: QueueRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#group.length === 0) setImmediate(() => this.#commit());
      this.#group.push({ request, resolve, reject });
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
    const sync = group.some((w) => w.request.sync !== false);
    const db = this.#db;
    const values: unknown[] = [];
    try {
      db.db.exec("BEGIN IMMEDIATE");
      for (const w of group) values.push(this.#apply(w.request));
      db.db.exec("COMMIT");
    } catch (error) {
      if (db.db.isOpen && db.db.isTransaction) db.db.exec("ROLLBACK");
      this.#available.clear();
      for (const w of group) w.reject(unavailable(error));
      return;
    }
    // Committed: in the file. Those who wait for the disk get their answer after the one fdatasync
    // the group shares; if that fails they are refused (a client then keeps its message and tries
    // again: at worst a duplicate, never a loss), while the steps that never waited for it are done.
    let unsynced: Error | undefined;
    if (sync) {
      try {
        db.syncLogNow();
        this.#unsynced = false;
      } catch (error) {
        unsynced = unavailable(error);
        this.#deferSync(); // try again within DEFERRED_SYNC_MS
      }
    } else this.#deferSync();
    for (const [i, w] of group.entries()) {
      if (unsynced && w.request.sync !== false) w.reject(unsynced);
      else w.resolve(values[i]);
    }
    this.#version = db.dataVersion();
    const available = [...this.#available];
    this.#available.clear();
    for (const q of available) for (const l of this.#listeners) l(q);
  }

  /** A commit without a sync: make sure the WAL is synced within DEFERRED_SYNC_MS. */
  #deferSync(): void {
    this.#unsynced = true;
    if (this.#syncTimer) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      if (!this.#unsynced || !this.#db.db.isOpen) return;
      this.#unsynced = false;
      // On the thread pool: this thread goes on committing (and serving its sessions) meanwhile.
      this.#db.syncLog().catch(() => {
        this.#unsynced = true; // the next commit or timer tries again
      });
    }, DEFERRED_SYNC_MS);
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
    clearTimeout(this.#syncTimer);
    if (this.#group.length > 0) this.#commit();
    // Whatever was committed without an fsync goes to disk now, not up to DEFERRED_SYNC_MS later.
    if (this.#unsynced && this.#db.db.isOpen) this.#db.syncLogNow();
    this.#db.close();
  }
}

const unavailable = (error: unknown) =>
  error instanceof QueueUnavailableError
    ? error
    : new QueueUnavailableError(`could not write the queue: ${(error as Error).message}`);
