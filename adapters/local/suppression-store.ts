// The suppression list for local mode in its own SQLite file: shared by the relay and the CLI, kept across restarts.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Clock } from "#core/ports.ts";
import {
  type SuppressionEntry,
  type SuppressionStore,
  suppressionKey,
} from "#core/suppression/list.ts";
import { openDatabase } from "./sqlite.ts";

/**
 * One row per address; `expires_at` (epoch ms, NULL: never) is compared on read and swept on write.
 * A file of its own, not tracking.db: tracking holds a write transaction open for a whole
 * event-loop turn, and node:sqlite's busy wait would block the very thread that commits it.
 */
export class LocalSuppressionStore implements SuppressionStore {
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  readonly #put: StatementSync;
  readonly #get: StatementSync;
  readonly #list: StatementSync;
  readonly #delete: StatementSync;
  readonly #sweep: StatementSync;

  constructor(path: string, clock: Clock = { now: () => new Date() }) {
    this.#clock = clock;
    this.#db = openDatabase(
      path,
      `CREATE TABLE IF NOT EXISTS suppression (
        recipient TEXT PRIMARY KEY, expires_at INTEGER, entry TEXT NOT NULL);`,
    );
    this.#put = this.#db.prepare(
      "INSERT OR REPLACE INTO suppression (recipient, expires_at, entry) VALUES (?, ?, ?)",
    );
    const live = "(expires_at IS NULL OR expires_at > :now)";
    this.#get = this.#db.prepare(
      `SELECT entry FROM suppression WHERE recipient = :recipient AND ${live}`,
    );
    this.#list = this.#db.prepare(`SELECT entry FROM suppression WHERE ${live} ORDER BY recipient`);
    this.#delete = this.#db.prepare(
      `DELETE FROM suppression WHERE recipient = :recipient RETURNING ${live} AS live`,
    );
    this.#sweep = this.#db.prepare("DELETE FROM suppression WHERE expires_at <= ?");
  }

  async put(entry: SuppressionEntry): Promise<void> {
    const recipient = suppressionKey(entry.recipient);
    const expires = entry.expiresAt === undefined ? null : Date.parse(entry.expiresAt);
    this.#sweep.run(this.#clock.now().getTime());
    this.#put.run(recipient, expires, JSON.stringify({ ...entry, recipient }));
  }

  async get(recipient: string): Promise<SuppressionEntry | undefined> {
    const row = this.#get.get({ recipient: suppressionKey(recipient), now: this.#now() }) as
      | { entry: string }
      | undefined;
    return row ? (JSON.parse(row.entry) as SuppressionEntry) : undefined;
  }

  async list(): Promise<SuppressionEntry[]> {
    const rows = this.#list.all({ now: this.#now() }) as { entry: string }[];
    return rows.map((r) => JSON.parse(r.entry) as SuppressionEntry);
  }

  async delete(recipient: string): Promise<boolean> {
    const row = this.#delete.get({ recipient: suppressionKey(recipient), now: this.#now() }) as
      | { live: number }
      | undefined;
    return Number(row?.live ?? 0) === 1;
  }

  close(): void {
    this.#db.close();
  }

  #now(): number {
    return this.#clock.now().getTime();
  }
}
