// Local mode's queues as rows of one SQLite table: the statements behind SQS semantics (delay,
// visibility timeout, receive count, dead-letter), run synchronously by their one writer.
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { openDatabase } from "./sqlite.ts";

/*
 * One row per queued message. `visible_at` is when a receive may take it (epoch ms): a delay puts
 * it in the future, a receive moves it to the end of the visibility timeout and counts the receive.
 * The body is the JSON text the producer wrote, stored as it came and handed back as it is, so a
 * message is serialised once and parsed once by whoever consumes it.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS messages (
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL,
    PRIMARY KEY (queue, id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS messages_due ON messages (queue, visible_at);
`;

/**
 * WAL pages after which a commit checkpoints (SQLite's default is 1,000, about 4 MiB). The checkpoint
 * runs inside that commit, on the listener's thread, for a few milliseconds; a relayed 10 KB message
 * writes about 30 pages (its submission, its delivery job, the receives and deletes), so at the
 * default every 30th message or so waited on one. The pages a checkpoint copies are the distinct pages written
 * since the last, which stay few as rows come and go, so ten times fewer checkpoints take about as
 * long each. The WAL file grows to about 40 MiB once and is then reused in place. (A checkpointer
 * thread, as tracking.db has, showed no latency gain here, and its frequent restarts of the WAL made
 * whether a message still fits on a full disk depend on timing.)
 */
export const CHECKPOINT_PAGES = 10_000;

/** A message as a receive hands it out: the body still as JSON text. */
export interface RawMessage {
  messageId: string;
  receiptHandle: string;
  receiveCount: number;
  sentAt: number;
  text: string;
}

/** A queued message as the admin sees it. */
export interface QueuedRow {
  messageId: string;
  receiveCount: number;
  visibleAt: number;
  sentAt: number;
  text: string;
}

export interface QueueStats {
  visible: number;
  delayed: number;
  inFlight: number;
  total: number;
}

export interface ReceiveOptions {
  max: number;
  visibilityMs: number;
  now: number;
  /** At this many receives a message moves to `deadLetter` instead (SQS redrive policy). */
  maxReceiveCount?: number;
  deadLetter?: string;
}

let seq = 0;
/** Time first so ids sort by arrival; a counter and random tail keep them unique across threads. */
export function newMessageId(now: number): string {
  const n = (++seq % 36 ** 4).toString(36).padStart(4, "0");
  return `${now.toString(36).padStart(9, "0")}-${n}-${crypto.randomUUID().slice(0, 8)}`;
}

const handleOf = (id: string, receiveCount: number) => `${id}#${receiveCount}`;
function parseHandle(handle: string): { id: string; receiveCount: number } {
  const at = handle.lastIndexOf("#");
  return { id: handle.slice(0, at), receiveCount: Number(handle.slice(at + 1)) };
}

type Row = Record<string, number | string>;

/**
 * The queue table on one connection. Statements change rows; transactions are the caller's (see
 * QueueServer, which groups everything of one event-loop turn into one and decides which commits
 * need to be on disk before an answer). The connection runs with synchronous=NORMAL: COMMIT writes
 * the WAL without syncing it, and the caller makes a commit durable with `syncLogNow()` (an
 * fdatasync of the WAL) before it answers, which is what SQLite's FULL does, except that SQLite
 * calls fsync: that also journals the WAL's new modification time, a second write to the disk for
 * nothing a recovery reads (measured in bench/README.md, "Latency: no hop before the 250").
 */
export class QueueDatabase {
  readonly db: DatabaseSync;
  readonly #s: Record<string, StatementSync>;
  readonly #wal: string;
  /** The WAL, open for its fdatasync: SQLite keeps that file (reused in place) while this connection is open. */
  #walFd: number | undefined;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = openDatabase(path, SCHEMA);
    this.#wal = `${path}-wal`;
    this.db.exec(`PRAGMA wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
    const p = (sql: string) => this.db.prepare(sql);
    this.#s = {
      insert: p(
        "INSERT OR IGNORE INTO messages (queue, id, sent_at, visible_at, receive_count, body) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      due: p(
        "SELECT id, sent_at, receive_count, body FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ?",
      ),
      take: p(
        "UPDATE messages SET visible_at = ?, receive_count = receive_count + 1 WHERE queue = ? AND id = ? AND receive_count = ?",
      ),
      move: p(
        "UPDATE messages SET queue = ?, visible_at = ?, receive_count = 0 WHERE queue = ? AND id = ?",
      ),
      delete: p("DELETE FROM messages WHERE queue = ? AND id = ? AND receive_count = ?"),
      remove: p("DELETE FROM messages WHERE queue = ? AND id = ?"),
      setVisible: p(
        "UPDATE messages SET visible_at = ? WHERE queue = ? AND id = ? AND receive_count = ?",
      ),
      release: p(
        "UPDATE messages SET visible_at = ? WHERE queue = ? AND receive_count > 0 AND visible_at > ?",
      ),
      next: p("SELECT MIN(visible_at) AS t FROM messages WHERE queue = ?"),
      stats: p(
        `SELECT COUNT(*) AS total, COALESCE(SUM(visible_at <= ?1), 0) AS visible,
           COALESCE(SUM(visible_at > ?1 AND receive_count > 0), 0) AS inFlight
         FROM messages WHERE queue = ?2`,
      ),
      list: p(
        "SELECT id, sent_at, visible_at, receive_count, body FROM messages WHERE queue = ? ORDER BY id",
      ),
      version: p("PRAGMA data_version"),
    };
  }

  send(queue: string, text: string, now: number, delayMs = 0): string {
    const id = newMessageId(now);
    this.#s.insert!.run(queue, id, now, now + Math.max(0, delayMs), 0, text);
    return id;
  }

  /** Inserts a message with its own id and state (moving a spool file in); an id already there is kept. */
  insert(queue: string, m: Omit<QueuedRow, "text">, text: string): boolean {
    const r = this.#s.insert!.run(queue, m.messageId, m.sentAt, m.visibleAt, m.receiveCount, text);
    return r.changes > 0;
  }

  /** Messages due now, each made invisible for the timeout; those received too often go to the dead letters. */
  receive(queue: string, o: ReceiveOptions): { messages: RawMessage[]; deadLettered: number } {
    const rows = this.#s.due!.all(queue, o.now, o.max) as Row[];
    const messages: RawMessage[] = [];
    let deadLettered = 0;
    for (const r of rows) {
      const id = r.id as string;
      const count = r.receive_count as number;
      if (o.deadLetter && o.maxReceiveCount !== undefined && count >= o.maxReceiveCount) {
        this.#s.move!.run(o.deadLetter, o.now, queue, id);
        deadLettered++;
        continue;
      }
      if (this.#s.take!.run(o.now + o.visibilityMs, queue, id, count).changes === 0) continue;
      messages.push({
        messageId: id,
        receiptHandle: handleOf(id, count + 1),
        receiveCount: count + 1,
        sentAt: r.sent_at as number,
        text: r.body as string,
      });
    }
    return { messages, deadLettered };
  }

  /** Deletes a received message; a stale receipt handle (received again since) changes nothing. */
  delete(queue: string, receiptHandle: string): boolean {
    const h = parseHandle(receiptHandle);
    return this.#s.delete!.run(queue, h.id, h.receiveCount).changes > 0;
  }

  changeVisibility(queue: string, receiptHandle: string, visibleAt: number): boolean {
    const h = parseHandle(receiptHandle);
    return this.#s.setVisible!.run(visibleAt, queue, h.id, h.receiveCount).changes > 0;
  }

  /** Makes every in-flight message visible now (those a dead process had received); delays stay. */
  releaseInFlight(queue: string, now: number): number {
    return Number(this.#s.release!.run(now, queue, now).changes);
  }

  /** When the next message of `queue` is (or was) visible; undefined when it is empty. */
  nextVisibleAt(queue: string): number | undefined {
    const t = (this.#s.next!.get(queue) as Row | undefined)?.t;
    return typeof t === "number" ? t : undefined;
  }

  stats(queue: string, now: number): QueueStats {
    const r = this.#s.stats!.get(now, queue) as Row;
    const total = Number(r.total);
    const visible = Number(r.visible);
    const inFlight = Number(r.inFlight);
    return { total, visible, inFlight, delayed: total - visible - inFlight };
  }

  list(queue: string): QueuedRow[] {
    return (this.#s.list!.all(queue) as Row[]).map((r) => ({
      messageId: r.id as string,
      sentAt: r.sent_at as number,
      visibleAt: r.visible_at as number,
      receiveCount: r.receive_count as number,
      text: r.body as string,
    }));
  }

  remove(queue: string, messageId: string): boolean {
    return this.#s.remove!.run(queue, messageId).changes > 0;
  }

  /** Moves one message to another queue, visible now with no receives (SQS redrive). */
  move(from: string, messageId: string, to: string, now: number): boolean {
    return this.#s.move!.run(to, now, from, messageId).changes > 0;
  }

  /** Changes whenever another connection (the admin CLI) commits to the file. */
  dataVersion(): number {
    return Number((this.#s.version!.get() as Row).data_version);
  }

  /**
   * Puts every commit made so far on disk: an fdatasync of the WAL (an fdatasync flushes the whole
   * file, whichever descriptor wrote it), on this thread. What a 250 waits for.
   */
  syncLogNow(): void {
    fdatasyncSync(this.#log());
  }

  /** syncLogNow on the thread pool, for commits nobody waits on (this thread goes on meanwhile). */
  syncLog(): Promise<void> {
    const fd = this.#log();
    return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
  }

  #log(): number {
    this.#walFd ??= openSync(this.#wal, "r+");
    return this.#walFd;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
    if (this.#walFd !== undefined) closeSync(this.#walFd);
    this.#walFd = undefined;
  }
}
