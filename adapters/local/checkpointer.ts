// Starts and stops the WAL checkpointer thread (queue-checkpoint.ts) of one of local mode's SQLite databases.
import { Worker } from "node:worker_threads";

/**
 * WAL pages after which a writer with a checkpointer thread checkpoints by itself (SQLite's default
 * is 1000, about 4 MiB): only a backstop, since the thread copies the WAL every 500 ms. Set it on
 * the writer's connection (`PRAGMA wal_autocheckpoint`) when the thread is started for its file.
 */
export const BACKSTOP_CHECKPOINT_PAGES = 10_000;

export interface Checkpointer {
  /** Stops the thread after its current checkpoint; the writer's last close checkpoints the rest. */
  stop(): Promise<void>;
}

export function startCheckpointer(path: string): Checkpointer {
  const worker = new Worker(new URL("./queue-checkpoint.ts", import.meta.url), {
    workerData: { path },
  });
  const done = new Promise<void>((resolve) => {
    worker.on("message", (m: { type: string }) => m.type === "closed" && resolve());
    worker.once("exit", () => resolve());
    worker.once("error", () => resolve());
  });
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        worker.postMessage({ type: "close" });
        await done;
        await worker.terminate();
      })();
      return stopping;
    },
  };
}
