// Opening local mode's SQLite files (node:sqlite): one set of connection settings for every store.
import { DatabaseSync } from "node:sqlite";

/**
 * Opens `path` and creates `schema`. WAL lets the CLI read while the relay writes; busy_timeout
 * makes a second process wait for the write lock instead of failing. synchronous=NORMAL:
 * tracking, counters and caches are never the only copy of a queued message, so a power loss may
 * cost the last commits but never mail. The queues sync their WAL themselves before a 250
 * (QueueDatabase.syncLogNow).
 */
export function openDatabase(path: string, schema: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA busy_timeout = 5000;
    ${schema}
  `);
  return db;
}
