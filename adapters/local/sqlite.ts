// Opening local mode's SQLite files (node:sqlite): one set of connection settings for every store.
import { DatabaseSync } from "node:sqlite";

/**
 * Opens `path` and creates `schema`. WAL lets the CLI read while the relay writes; busy_timeout
 * makes a second process wait for the write lock instead of failing. synchronous=NORMAL by default:
 * tracking, counters and caches are never the only copy of a queued message, so a power loss may
 * cost the last commits but never mail. The queues open with FULL: their commit is the fsync a 250
 * waits for.
 */
export function openDatabase(
  path: string,
  schema: string,
  options: { synchronous?: "NORMAL" | "FULL" } = {},
): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = ${options.synchronous ?? "NORMAL"};
    PRAGMA busy_timeout = 5000;
    ${schema}
  `);
  return db;
}
