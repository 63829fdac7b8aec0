// Local mode's WAL checkpointer (tracking.db's; the queue database checkpoints itself): copies the committed pages
// of one SQLite WAL back into the database file on a thread of its own, so no commit of the thread
// that writes it (nor what waits on that commit: a 250, a Delivered record) waits for a checkpoint.
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

/** How often the WAL is checkpointed; each run copies what was committed since the last one. */
export const CHECKPOINT_EVERY_MS = 500;

/**
 * The checkpoint is SQLite's PASSIVE one, on a connection of its own: it runs beside the writer
 * without taking its lock, fsyncs the WAL before copying and the database after, and once all of
 * the WAL is copied the writer starts it over from the beginning. The writer's own automatic
 * checkpoint stays as a backstop at a higher threshold (see checkpointer.ts), should this one fall
 * behind. Crash-safe at any point, as every SQLite checkpoint is: the WAL stays the authority for
 * what it has not yet copied.
 */
const port = parentPort;
if (!port) throw new Error("queue-checkpoint.ts runs as a worker thread (see checkpointer.ts)");
const db = new DatabaseSync((workerData as { path: string }).path);
db.exec("PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // Busy or a transient I/O error: the next run, or the writer's own backstop, copies it.
  }
}, CHECKPOINT_EVERY_MS);
port.on("message", (m: { type: "close" }) => {
  if (m.type !== "close") return;
  clearInterval(timer);
  db.close();
  port.postMessage({ type: "closed" });
  port.close();
});
