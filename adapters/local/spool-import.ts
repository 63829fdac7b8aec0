// Upgrade from the file-per-message spool: messages an older relay left in RELAY_HOME/queues/<queue>/
// are moved into the queue database at start, keeping their ids, delays and receive counts.
import { readdirSync, readFileSync, rmdirSync, rmSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import type { QueueDatabase } from "./queue-db.ts";

/** The old spool's file names: `<id>~<visibleAtMs>~<receiveCount>`, holding `{ id, sentAt, body }`. */
const SPOOL_FILE = /^([A-Za-z0-9-]+)~(\d+)~(\d+)$/;

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Imports every spool directory beside the database at `dbPath` (its name is the queue's), in one
 * transaction; only after that commit (fsynced) are the files removed, so a crash at any point
 * leaves each message in the files, in the table, or in both (an import again keeps the row already
 * there: same id). `.tmp/` held writes never acknowledged, as the old spool treated them. A file
 * that is not valid JSON is left where it is. Resolves how many messages were imported.
 */
export function importSpool(db: QueueDatabase, dbPath: string): number {
  const root = dirname(dbPath);
  const found: Array<{ dir: string; file: string }> = [];
  let imported = 0;
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return 0;
  }
  const dirs = entries
    .map((queue) => ({ queue, dir: join(root, queue) }))
    .filter((d) => isDirectory(d.dir));
  if (dirs.length === 0) return 0; // nothing to upgrade: no write transaction (the CLI opens this too)
  db.db.exec("BEGIN IMMEDIATE");
  try {
    for (const { queue, dir } of dirs) {
      for (const file of readdirSync(dir)) {
        const m = SPOOL_FILE.exec(file);
        if (!m) continue;
        let stored: { sentAt?: number; body: unknown };
        try {
          stored = JSON.parse(readFileSync(join(dir, file), "utf8"));
        } catch {
          continue;
        }
        const row = {
          messageId: m[1] ?? file,
          visibleAt: Number(m[2]),
          receiveCount: Number(m[3]),
          sentAt: stored.sentAt ?? Number(m[2]),
        };
        if (db.insert(queue, row, JSON.stringify(stored.body))) imported++;
        found.push({ dir, file });
      }
    }
    db.db.exec("COMMIT");
    db.syncLogNow(); // on disk before the files go
  } catch (error) {
    if (db.db.isTransaction) db.db.exec("ROLLBACK");
    throw error;
  }
  for (const f of found) unlinkSync(join(f.dir, f.file));
  for (const { dir } of dirs) {
    rmSync(join(dir, ".tmp"), { recursive: true, force: true });
    try {
      rmdirSync(dir);
    } catch {
      // something else is left in it (a file that was not valid JSON): keep it for the admin
    }
  }
  return imported;
}
