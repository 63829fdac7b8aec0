// Entry of local mode's queue thread (see queue-thread.ts): opens the queue database, moves any old
// spool files into it, and serves every port it is given with one group-committing QueueServer.
import type { MessagePort } from "node:worker_threads";
import { parentPort, workerData } from "node:worker_threads";
import { QueueDatabase } from "./queue-db.ts";
import { QueueServer } from "./queue-server.ts";
import { type Control, type ControlReply, serve } from "./queue-thread.ts";
import { importSpool } from "./spool-import.ts";

const control = parentPort;
if (!control) throw new Error("queue-worker.ts runs as a worker thread of local mode");
try {
  const path = (workerData as { path: string }).path;
  const db = new QueueDatabase(path);
  const imported = importSpool(db, path);
  // SQLite's own checkpoint every 1,000 WAL pages, on this thread (a checkpointer thread, as
  // tracking.db has, saved fsyncs but no measurable latency here, and its resets of the WAL every
  // 500 ms made whether a message fits on a full disk depend on timing).
  const server = new QueueServer(db);
  const ports: MessagePort[] = [];
  control.on("message", async (m: Control) => {
    if (m.type === "connect") {
      ports.push(m.port);
      serve(server, m.port, { deferSync: m.deferSync === true });
    } else if (m.type === "close") {
      server.close();
      for (const p of ports) p.close();
      control.postMessage({ type: "closed" } satisfies ControlReply);
    }
  });
  control.postMessage({ type: "ready", imported } satisfies ControlReply);
} catch (error) {
  control.postMessage({ type: "failed", message: (error as Error).message } satisfies ControlReply);
}
