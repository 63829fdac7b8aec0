// Local mode's queue database across threads: its one writer (a QueueServer) on the thread that
// opened it, and message ports through which other threads (the delivery pipeline) reach it.
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { QueueUnavailableError } from "#core/errors.ts";
import { openQueueStore } from "./queue.ts";
import type { QueueReply, QueueRequest, QueueServer, QueueService } from "./queue-server.ts";

/** `watch`: this port wants commit notices (only ports that wait for messages; the listener's does not). */
export type ToQueue = { id: number; request: QueueRequest } | { watch: true };
export type FromQueue =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string }
  | { available: string };

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

/** The queue database's writer, on the thread that opened it, and ports to it for other threads. */
export interface QueueHost {
  /** This thread's client: the group-committing server itself, no port in between. */
  client: QueueService;
  /** Old spool files moved into the database at start. */
  imported: number;
  /**
   * A port for another thread (transfer it), served like this thread's client; with `deferSync`
   * its writes are answered once committed, before their sync (only for the delivery pipeline's
   * own steps: see QueueServer).
   */
  connect(options?: { deferSync?: boolean }): MessagePort;
  /** Answers what is pending, syncs, closes the file and the ports. */
  stop(): void;
}

/**
 * Opens the queue database at `path` (old spool directories beside it are imported first) with its
 * one writer on this thread. Local mode runs it on the listener's thread: a submission then goes
 * from the DATA stream to COMMIT and its fdatasync without a hop to another thread and back, which
 * measured as most of the gap to Postfix's dot→250 latency (bench/README.md, "Latency"). The
 * fdatasync blocks this thread for its duration (about a millisecond); what other sessions send
 * meanwhile waits in their sockets and joins the next group, as in any group commit.
 */
export function openQueueHost(path: string): QueueHost {
  const store = openQueueStore(path);
  const ports: MessagePort[] = [];
  return {
    client: store.service,
    imported: store.imported,
    connect(options = {}) {
      const { port1, port2 } = new MessageChannel();
      ports.push(port2);
      serve(store.service, port2, options);
      return port1;
    },
    stop() {
      store.close();
      for (const p of ports) p.close();
    },
  };
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
