// Local mode's queue thread: the one writer of the queue database, so its fsyncs block nobody else;
// the listener and the delivery pipeline reach it through message ports (QueuePortClient).
import { MessageChannel, type MessagePort, type ResourceLimits, Worker } from "node:worker_threads";
import { QueueUnavailableError } from "#core/errors.ts";
import type { QueueReply, QueueRequest, QueueServer, QueueService } from "./queue-server.ts";

/** `watch`: this port wants commit notices (only ports that wait for messages; the listener's does not). */
export type ToQueue = { id: number; request: QueueRequest } | { watch: true };
export type FromQueue =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string }
  | { available: string };
/** `deferSync`: the port's changes are answered before their fsync (QueueServer: the pipeline's own steps). */
export type Control =
  | { type: "connect"; port: MessagePort; deferSync?: boolean }
  | { type: "close" };
export type ControlReply =
  | { type: "ready"; imported: number }
  | { type: "failed"; message: string }
  | { type: "closed" };

/** A QueueService on the other end of a message port. */
export class QueuePortClient implements QueueService {
  readonly #port: MessagePort;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  readonly #listeners = new Set<(queue: string) => void>();
  #next = 0;
  #watching = false;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on("message", (m: FromQueue) => {
      if ("available" in m) {
        for (const l of this.#listeners) l(m.available);
        return;
      }
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new QueueUnavailableError(m.message));
    });
  }

  request<R extends QueueRequest>(request: R): Promise<QueueReply<R>> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#port.postMessage({ id, request } satisfies ToQueue);
    });
  }

  onAvailable(listener: (queue: string) => void): () => void {
    // Ordered before any request that follows on this port, so no commit after it goes unseen.
    if (!this.#watching) this.#port.postMessage({ watch: true } satisfies ToQueue);
    this.#watching = true;
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    for (const p of this.#pending.values()) p.reject(new QueueUnavailableError("queue closed"));
    this.#pending.clear();
    this.#port.close();
  }
}

export interface QueueThread {
  /** A client for this thread. */
  client: QueuePortClient;
  /** Old spool files moved into the database at start. */
  imported: number;
  /**
   * A port for another thread (transfer it), served like this thread's client; with `deferSync`
   * its writes are answered once committed, before their fsync (only for the delivery pipeline's
   * own steps: see QueueServer).
   */
  connect(options?: { deferSync?: boolean }): MessagePort;
  stop(): Promise<void>;
}

/**
 * Starts the queue thread on the database at `path` (old spool directories beside it are imported
 * first). `resourceLimits` caps its heap as local mode caps its other threads (local/memory.ts).
 */
export function startQueueThread(
  path: string,
  resourceLimits?: ResourceLimits,
): Promise<QueueThread> {
  const worker = new Worker(new URL("./queue-worker.ts", import.meta.url), {
    workerData: { path },
    ...(resourceLimits ? { resourceLimits } : {}),
  });
  const connect = (options: { deferSync?: boolean } = {}) => {
    const { port1, port2 } = new MessageChannel();
    const deferSync = options.deferSync === true;
    worker.postMessage({ type: "connect", port: port2, deferSync } satisfies Control, [port2]);
    return port1;
  };
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`queue thread exited with ${code}`));
    worker.once("error", reject);
    worker.once("exit", onExit);
    worker.once("message", (m: ControlReply) => {
      if (m.type !== "ready")
        return reject(
          new Error(`queue database did not open: ${(m as { message?: string }).message}`),
        );
      worker.off("exit", onExit);
      const client = new QueuePortClient(connect());
      resolve({
        client,
        imported: m.imported,
        connect,
        async stop() {
          client.close();
          const closed = new Promise<void>((r) => {
            worker.on("message", (c: ControlReply) => c.type === "closed" && r());
            worker.once("exit", () => r());
          });
          worker.postMessage({ type: "close" } satisfies Control);
          await closed;
          await worker.terminate();
        },
      });
    });
  });
}

/**
 * Serves `port` from `server`: requests answered in order of their commits, commits announced to
 * a port once it asks (a thread that only sends, as the listener does, is not woken by them).
 */
export function serve(
  server: QueueServer,
  port: MessagePort,
  options: { deferSync?: boolean } = {},
): () => void {
  let watching = false;
  port.on("message", (m: ToQueue) => {
    if ("watch" in m) {
      watching = true;
      return;
    }
    const request: QueueRequest = options.deferSync ? { ...m.request, sync: false } : m.request;
    server.request(request).then(
      (value) => port.postMessage({ id: m.id, ok: true, value } satisfies FromQueue),
      (error: Error) =>
        port.postMessage({ id: m.id, ok: false, message: error.message } satisfies FromQueue),
    );
  });
  return server.onAvailable(
    (queue) => watching && port.postMessage({ available: queue } satisfies FromQueue),
  );
}
