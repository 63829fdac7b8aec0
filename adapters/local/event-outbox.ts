// Local mode's durable outbox of delivery events for webhooks (SQLite in RELAY_HOME): written by deliver, drained by the event worker.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { DeliveryEvent, EventPublisher } from "#core/events/delivery-event.ts";
import type { Clock } from "#core/ports.ts";
import { openDatabase } from "./sqlite.ts";

/** A webhook as TransportSettings.eventWebhooks names it: the URL and the name of its signing secret. */
export interface Webhook {
  url: string;
  secret: string;
}

/** One event for one webhook, waiting to be POSTed. */
export interface OutboxItem {
  id: number;
  eventId: string;
  url: string;
  secret: string;
  body: string;
  attempts: number;
  createdAt: number;
}

/*
 * One row per (event, webhook), unique on both, so an event published twice (a redelivered job)
 * is POSTed once. synchronous=FULL: unlike tracking, this file holds the only copy of an event
 * not yet delivered, so a commit is on disk before deliver moves on.
 */
export class LocalEventOutbox implements EventPublisher {
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  readonly #webhooks: () => Webhook[];
  readonly #insert: StatementSync;
  readonly #due: StatementSync;
  readonly #done: StatementSync;
  readonly #later: StatementSync;
  readonly #count: StatementSync;
  #onPublished: (() => void) | undefined;

  constructor(path: string, webhooks: () => Webhook[], clock: Clock = { now: () => new Date() }) {
    this.#clock = clock;
    this.#webhooks = webhooks;
    this.#db = openDatabase(
      path,
      `CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, url TEXT NOT NULL,
        secret TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL, next_at INTEGER NOT NULL, last_error TEXT,
        UNIQUE (event_id, url));
      CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_at);`,
    );
    this.#db.exec("PRAGMA synchronous = FULL;");
    this.#insert = this.#db.prepare(
      `INSERT OR IGNORE INTO outbox (event_id, url, secret, body, created_at, next_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#due = this.#db.prepare(
      `SELECT id, event_id, url, secret, body, attempts, created_at FROM outbox
       WHERE next_at <= ? ORDER BY next_at, id LIMIT ?`,
    );
    this.#done = this.#db.prepare("DELETE FROM outbox WHERE id = ?");
    this.#later = this.#db.prepare(
      "UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?",
    );
    this.#count = this.#db.prepare("SELECT count(*) AS n FROM outbox");
  }

  /** Called after each publish, so the worker sends at once instead of at its next poll. */
  set onPublished(f: (() => void) | undefined) {
    this.#onPublished = f;
  }

  async publish(events: DeliveryEvent[]): Promise<void> {
    const hooks = this.#webhooks();
    if (hooks.length === 0 || events.length === 0) return;
    const now = this.#clock.now().getTime();
    this.#db.exec("BEGIN");
    try {
      for (const e of events)
        for (const h of hooks)
          this.#insert.run(e.eventId, h.url, h.secret, JSON.stringify(e), now, now);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    this.#onPublished?.();
  }

  due(limit: number): OutboxItem[] {
    const rows = this.#due.all(this.#clock.now().getTime(), limit) as {
      id: number;
      event_id: string;
      url: string;
      secret: string;
      body: string;
      attempts: number;
      created_at: number;
    }[];
    return rows.map((r) => ({
      id: Number(r.id),
      eventId: r.event_id,
      url: r.url,
      secret: r.secret,
      body: r.body,
      attempts: Number(r.attempts),
      createdAt: Number(r.created_at),
    }));
  }

  /** Delivered, or given up on: the row goes. */
  remove(id: number): void {
    this.#done.run(id);
  }

  retryAt(id: number, at: Date, error: string): void {
    this.#later.run(at.getTime(), error.slice(0, 500), id);
  }

  size(): number {
    return Number((this.#count.get() as { n: number }).n);
  }

  close(): void {
    this.#db.close();
  }
}
