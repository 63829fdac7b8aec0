// Message tracking for local mode in SQLite (node:sqlite): per-recipient rows with their events, and the message-level event log.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  FINAL_STATUSES,
  type JobClaim,
  type RecipientRow,
  type RecipientStatus,
  type RowEvent,
  type TrackingEvent,
  type TrackingStore,
} from "#core/ports.ts";
import { inTimeOrder } from "#core/tracking-events.ts";
import { openDatabase } from "./sqlite.ts";

/** A row in a final status; literal, so SQLite can use the partial index that repeats it. */
const FINISHED = `status IN (${FINAL_STATUSES.map((st) => `'${st}'`).join(", ")})`;

/*
 * WAL with synchronous=NORMAL: a process crash (kill -9) loses nothing, since committed pages are
 * in the OS cache; a power loss may lose the last moments of tracking, which at worst repeats a
 * delivery attempt (at-least-once) and never loses mail — the mail itself is in the fsynced spool.
 */
export class LocalTrackingStore implements TrackingStore {
  readonly #db: DatabaseSync;
  /** Prepared once, run many times: SQLite parses and plans each statement only once. */
  readonly #statements = new Map<string, StatementSync>();

  /**
   * `autocheckpointPages`: where a checkpointer thread copies this file's WAL (checkpointer.ts),
   * the writer's own checkpoint is only a backstop; otherwise SQLite's default (1000 pages) holds.
   */
  constructor(path: string, options: { autocheckpointPages?: number } = {}) {
    this.#db = openDatabase(
      path,
      `
      CREATE TABLE IF NOT EXISTS recipients (
        message_id TEXT NOT NULL, recipient_lc TEXT NOT NULL, status TEXT NOT NULL,
        sender_lc TEXT NOT NULL, row TEXT NOT NULL, PRIMARY KEY (message_id, recipient_lc));
      CREATE INDEX IF NOT EXISTS recipients_status ON recipients(status);
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, recipient_lc TEXT,
        sender_lc TEXT, event TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS events_message ON events(message_id);
      CREATE INDEX IF NOT EXISTS events_recipient ON events(recipient_lc);
      CREATE INDEX IF NOT EXISTS events_sender ON events(sender_lc);
      CREATE TABLE IF NOT EXISTS claims (
        key TEXT PRIMARY KEY, holder TEXT NOT NULL, until_ms INTEGER NOT NULL);
      `,
    );
    // updated_at, for retention: a column of its own (databases made before it get it filled once).
    const columns = this.#db.prepare("PRAGMA table_info(recipients)").all() as { name: string }[];
    if (!columns.some((c) => c.name === "updated_at"))
      this.#db.exec(`
        ALTER TABLE recipients ADD COLUMN updated_at TEXT;
        UPDATE recipients SET updated_at = json_extract(row, '$.updatedAt');
      `);
    // A recipient's events (a JSON array) live on its row, so a change of status and its event are
    // one statement; databases made before keep their events in `events`, which is still read.
    if (!columns.some((c) => c.name === "events"))
      this.#db.exec("ALTER TABLE recipients ADD COLUMN events TEXT");
    this.#db.exec(`
      CREATE INDEX IF NOT EXISTS recipients_finished ON recipients(updated_at) WHERE ${FINISHED};
      CREATE INDEX IF NOT EXISTS recipients_recipient ON recipients(recipient_lc);
      CREATE INDEX IF NOT EXISTS recipients_sender ON recipients(sender_lc);
    `);
    if (options.autocheckpointPages !== undefined)
      this.#db.exec(`PRAGMA wal_autocheckpoint = ${Math.trunc(options.autocheckpointPages)}`);
  }

  close(): void {
    this.#commit();
    this.#statements.clear();
    this.#db.close();
  }

  /*
   * Group commit: the first write of an event-loop turn opens a transaction and the turn's end
   * commits it, so the dozen tracking writes of one message cost one commit (4 pwrite and 4 lock
   * calls) instead of one each. The transaction never spans more than a turn, so the CLI, writing
   * from its own process, waits at most that long for the lock.
   */
  #inTransaction = false;

  #write<R>(work: () => R): R {
    if (!this.#inTransaction) {
      this.#db.exec("BEGIN IMMEDIATE");
      this.#inTransaction = true;
      setImmediate(() => this.#commit());
    }
    return work();
  }

  #commit(): void {
    if (!this.#inTransaction) return;
    this.#inTransaction = false;
    this.#db.exec("COMMIT");
  }

  #statement(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.#db.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  #insert(
    verb: "INSERT OR REPLACE" | "INSERT OR IGNORE",
    row: RecipientRow,
    event?: RowEvent,
  ): boolean {
    const r = this.#statement(
      `${verb} INTO recipients (message_id, recipient_lc, status, sender_lc, row, updated_at, events) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      row.messageId,
      row.recipient.toLowerCase(),
      row.status,
      row.sender.toLowerCase(),
      JSON.stringify(row),
      row.updatedAt,
      event ? JSON.stringify([event]) : null,
    );
    return Number(r.changes) === 1;
  }

  async put(row: RecipientRow): Promise<void> {
    this.#write(() => this.#insert("INSERT OR REPLACE", row));
  }

  async create(row: RecipientRow, event?: RowEvent): Promise<boolean> {
    return this.#write(() => this.#insert("INSERT OR IGNORE", row, event));
  }

  async update(
    messageId: string,
    recipient: string,
    patch: Partial<RecipientRow>,
    options: { ifStatusIn?: RecipientStatus[]; event?: RowEvent } = {},
  ): Promise<boolean> {
    // Read, check and write in one synchronous step inside the turn's transaction, so no other
    // update of this process runs in between (an await here would let one in).
    return this.#write(() => {
      const current = this.#get(messageId, recipient);
      if (!current) return false;
      if (options.ifStatusIn && !options.ifStatusIn.includes(current.status)) return false;
      const row = { ...current, ...patch };
      const args = [row.status, JSON.stringify(row), row.updatedAt] as const;
      const where = [messageId, recipient.toLowerCase()] as const;
      if (options.event)
        this.#statement(
          `UPDATE recipients SET status = ?, row = ?, updated_at = ?,
             events = json_insert(coalesce(events, '[]'), '$[#]', json(?))
           WHERE message_id = ? AND recipient_lc = ?`,
        ).run(...args, JSON.stringify(options.event), ...where);
      else
        this.#statement(
          "UPDATE recipients SET status = ?, row = ?, updated_at = ? WHERE message_id = ? AND recipient_lc = ?",
        ).run(...args, ...where);
      return true;
    });
  }

  #get(messageId: string, recipient: string): RecipientRow | undefined {
    const r = this.#statement(
      "SELECT row FROM recipients WHERE message_id = ? AND recipient_lc = ?",
    ).get(messageId, recipient.toLowerCase()) as { row: string } | undefined;
    return r ? (JSON.parse(r.row) as RecipientRow) : undefined;
  }

  async get(messageId: string, recipient: string): Promise<RecipientRow | undefined> {
    return this.#get(messageId, recipient);
  }

  async listByMessage(messageId: string): Promise<RecipientRow[]> {
    const rows = this.#statement(
      "SELECT row FROM recipients WHERE message_id = ? ORDER BY recipient_lc",
    ).all(messageId) as Array<{ row: string }>;
    return rows.map((r) => JSON.parse(r.row) as RecipientRow);
  }

  async listActive(): Promise<RecipientRow[]> {
    const placeholders = FINAL_STATUSES.map(() => "?").join(",");
    const rows = this.#statement(
      `SELECT row FROM recipients WHERE status NOT IN (${placeholders}) ORDER BY message_id`,
    ).all(...FINAL_STATUSES) as Array<{ row: string }>;
    return rows.map((r) => JSON.parse(r.row) as RecipientRow);
  }

  /**
   * Retention (Exchange's MessageTrackingLogMaxAge): deletes up to `limit` finished messages, those
   * whose every recipient is in a final status and was last updated before `before`, with their
   * events; returns how many. A message with one recipient still queued keeps all its rows. Runs
   * in the current turn's transaction, so a small `limit` keeps the write lock short.
   */
  pruneFinished(before: Date, limit: number): number {
    const cutoff = before.toISOString();
    return this.#write(() => {
      const ids = this.#statement(
        `SELECT DISTINCT message_id FROM recipients r WHERE ${FINISHED} AND updated_at < ?
         AND NOT EXISTS (SELECT 1 FROM recipients a WHERE a.message_id = r.message_id
           AND (a.status NOT IN (${FINAL_STATUSES.map(() => "?").join(",")}) OR a.updated_at >= ?))
         LIMIT ?`,
      ).all(cutoff, ...FINAL_STATUSES, cutoff, limit) as { message_id: string }[];
      const rows = this.#statement("DELETE FROM recipients WHERE message_id = ?");
      const events = this.#statement("DELETE FROM events WHERE message_id = ?");
      for (const { message_id } of ids) {
        rows.run(message_id);
        events.run(message_id);
      }
      return ids.length;
    });
  }

  /*
   * One statement decides, so the CLI or a second process on the same file cannot slip in between:
   * the upsert writes only when the standing lease is over or is this holder's.
   */
  async claim(key: string, holder: string, until: Date, now: Date): Promise<JobClaim> {
    return this.#write(() => {
      const r = this.#statement(
        `INSERT INTO claims (key, holder, until_ms) VALUES (?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
         WHERE claims.until_ms <= ? OR claims.holder = excluded.holder`,
      ).run(key, holder, until.getTime(), now.getTime());
      if (Number(r.changes) === 1) return { claimed: true } as const;
      const standing = this.#statement("SELECT until_ms FROM claims WHERE key = ?").get(key) as {
        until_ms: number;
      };
      return { claimed: false, until: new Date(Number(standing.until_ms)).toISOString() } as const;
    });
  }

  /**
   * Ends every lease. Only for a process that holds the RELAY_HOME lock at start: no other deliverer
   * can be running, so claims left by one that was killed would only hold its jobs back until their
   * leases ran out (up to the delivery queue's visibility timeout).
   */
  releaseAllClaims(): number {
    const released = this.#write(() => Number(this.#statement("DELETE FROM claims").run().changes));
    // Committed now, not at the end of the turn: the caller opens the same file next.
    this.#commit();
    return released;
  }

  /** Commits the turn's transaction now rather than at the turn's end (see TrackingStore.flush). */
  async flush(): Promise<void> {
    this.#commit();
  }

  async release(key: string, holder: string): Promise<void> {
    this.#write(() =>
      this.#statement("DELETE FROM claims WHERE key = ? AND holder = ?").run(key, holder),
    );
  }

  async addEvent(event: TrackingEvent): Promise<void> {
    this.#write(() =>
      this.#statement(
        "INSERT INTO events (message_id, recipient_lc, sender_lc, event) VALUES (?, ?, ?, ?)",
      ).run(
        event.messageId,
        event.recipient?.toLowerCase() ?? null,
        event.sender?.toLowerCase() ?? null,
        JSON.stringify(event),
      ),
    );
  }

  /** The events of matching rows and the event log, in time order (the log's first at a tie). */
  async events(query: {
    messageId?: string;
    sender?: string;
    recipient?: string;
  }): Promise<TrackingEvent[]> {
    const where: string[] = [];
    const args: string[] = [];
    if (query.messageId !== undefined) {
      where.push("message_id = ?");
      args.push(query.messageId);
    }
    if (query.sender !== undefined) {
      where.push("sender_lc = ?");
      args.push(query.sender.toLowerCase());
    }
    if (query.recipient !== undefined) {
      where.push("recipient_lc = ?");
      args.push(query.recipient.toLowerCase());
    }
    const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const logged = (
      this.#statement(`SELECT event FROM events ${filter} ORDER BY seq`).all(...args) as Array<{
        event: string;
      }>
    ).map((r) => JSON.parse(r.event) as TrackingEvent);
    const rows = this.#statement(
      `SELECT row, events FROM recipients ${filter ? `${filter} AND` : "WHERE"} events IS NOT NULL ORDER BY message_id, recipient_lc`,
    ).all(...args) as Array<{ row: string; events: string }>;
    const onRows = rows.flatMap((r) => {
      const { messageId, recipient, sender } = JSON.parse(r.row) as RecipientRow;
      return (JSON.parse(r.events) as RowEvent[]).map(
        (e): TrackingEvent => ({ messageId, recipient, sender, ...e }),
      );
    });
    return inTimeOrder(logged, onRows);
  }
}
