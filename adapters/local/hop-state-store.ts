// Next-hop state for local mode in SQLite (limits.db beside the rate counters): shared by the relay's workers and the CLI.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { HopStateStore, Versioned } from "#core/next-hop/ports.ts";
import { nextVersion } from "#core/next-hop/ports.ts";
import type { Clock } from "#core/ports.ts";
import { openDatabase } from "./sqlite.ts";

/*
 * One conditional statement per write: the UPDATE names the version read (or, for a fresh
 * document, an expired row), the INSERT only a key that is not there, so two processes writing
 * one file cannot both win (WAL and the busy timeout serialise them).
 */
export class LocalHopStateStore implements HopStateStore {
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  readonly #read: StatementSync;
  readonly #update: StatementSync;
  readonly #insert: StatementSync;

  constructor(path: string, clock: Clock = { now: () => new Date() }) {
    this.#clock = clock;
    this.#db = openDatabase(
      path,
      `CREATE TABLE IF NOT EXISTS hop_state (
        key TEXT PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL, expires_at INTEGER NOT NULL);`,
    );
    this.#read = this.#db.prepare(
      "SELECT state, version FROM hop_state WHERE key = ? AND expires_at > ?",
    );
    this.#update = this.#db.prepare(`
      UPDATE hop_state SET state = :state, version = :next, expires_at = :end
      WHERE key = :key AND ((version = :version AND expires_at > :now) OR (:version = 0 AND expires_at <= :now))`);
    this.#insert = this.#db.prepare(`
      INSERT INTO hop_state (key, state, version, expires_at) VALUES (:key, :state, :next, :end)
      ON CONFLICT (key) DO NOTHING`);
  }

  async read<T>(key: string): Promise<Versioned<T> | undefined> {
    const row = this.#read.get(key, this.#clock.now().getTime()) as
      | { state: string; version: number }
      | undefined;
    return row ? { state: JSON.parse(row.state) as T, version: Number(row.version) } : undefined;
  }

  async write<T>(key: string, state: T, version: number, expiresAt: Date): Promise<boolean> {
    const now = this.#clock.now().getTime();
    const params = {
      key,
      state: JSON.stringify(state),
      version,
      next: nextVersion(version, now),
      end: expiresAt.getTime(),
      now,
    };
    if (Number(this.#update.run(params).changes) === 1) return true;
    if (version !== 0) return false;
    const { now: _n, version: _v, ...insert } = params;
    return Number(this.#insert.run(insert).changes) === 1;
  }

  close(): void {
    this.#db.close();
  }
}
