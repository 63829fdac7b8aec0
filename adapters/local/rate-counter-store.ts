// Rate counters for local mode in SQLite (node:sqlite): shared by the relay and the CLI, kept across restarts.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Clock, RateCount, RateCounterStore } from "#core/ports.ts";
import { openDatabase } from "./sqlite.ts";

/*
 * One UPSERT per increment, so it is atomic between the relay and a CLI writing the same file
 * (WAL, busy timeout). synchronous=NORMAL: a power loss may forget the last counts, which only
 * gives a guesser a few more tries; a restart of the relay keeps them (lockouts survive it).
 */
export class LocalRateCounterStore implements RateCounterStore {
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  readonly #increment: StatementSync;
  readonly #giveBack: StatementSync;
  readonly #get: StatementSync;
  readonly #delete: StatementSync;
  readonly #sweep: StatementSync;
  #writes = 0;

  constructor(path: string, clock: Clock = { now: () => new Date() }) {
    this.#clock = clock;
    this.#db = openDatabase(
      path,
      `
      CREATE TABLE IF NOT EXISTS counters (
        key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      `,
    );
    this.#increment = this.#db.prepare(`
      INSERT INTO counters (key, count, expires_at) VALUES (:key, :n, :end)
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN expires_at > :now THEN count + excluded.count ELSE excluded.count END,
        expires_at = CASE WHEN expires_at > :now THEN expires_at ELSE excluded.expires_at END
      RETURNING count, expires_at`);
    this.#giveBack = this.#db.prepare(`
      UPDATE counters SET count = count + :n WHERE key = :key AND expires_at > :now
      RETURNING count, expires_at`);
    this.#get = this.#db.prepare(
      "SELECT count, expires_at FROM counters WHERE key = ? AND expires_at > ?",
    );
    this.#delete = this.#db.prepare("DELETE FROM counters WHERE key = ?");
    this.#sweep = this.#db.prepare("DELETE FROM counters WHERE expires_at <= ?");
  }

  async increment(key: string, windowSeconds: number, amount = 1): Promise<RateCount> {
    const now = this.#clock.now().getTime();
    // A guessing attacker leaves many short-lived keys behind: clear the expired ones now and then.
    if (++this.#writes % 1000 === 0) this.#sweep.run(now);
    const row = (
      amount < 0
        ? this.#giveBack.get({ key, n: amount, now })
        : this.#increment.get({ key, n: amount, end: now + windowSeconds * 1000, now })
    ) as { count: number; expires_at: number } | undefined;
    if (!row) return { count: 0, expiresAt: new Date(now) };
    return { count: Number(row.count), expiresAt: new Date(Number(row.expires_at)) };
  }

  async get(key: string): Promise<RateCount | undefined> {
    const row = this.#get.get(key, this.#clock.now().getTime()) as
      | { count: number; expires_at: number }
      | undefined;
    return row
      ? { count: Number(row.count), expiresAt: new Date(Number(row.expires_at)) }
      : undefined;
  }

  async delete(key: string): Promise<void> {
    this.#delete.run(key);
  }

  close(): void {
    this.#db.close();
  }
}
