// The CLI's local back end: reads and writes RELAY_HOME beside a running relay, without its lock and without opening its queues.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { LocalQueue } from "#adapters/local/spool.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import type { DeliveryJob } from "#core/message.ts";
import type { QueueProducer, RecordStore } from "#core/ports.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import type { DeadLetterQueue } from "#core/usecases/admin-redrive.ts";
import type { RelayHome } from "#local/home.ts";
import type { DeadLetter, QueueBackend } from "./backend.ts";

/*
 * The relay owns its queues' in-memory index and clears `.tmp/` when it opens them, so this side
 * never calls LocalQueue.open: it writes with LocalQueue.drop (fsynced like any send) and reads the
 * files as they are; the relay adopts dropped files within a second. SQLite tracking is shared
 * safely (WAL, busy timeout). Nothing here takes RELAY_HOME's lock.
 */

/** A producer that drops into a live queue's directory. */
const dropInto = <T>(dir: string): QueueProducer<T> => ({
  send: (body, options) => LocalQueue.drop(dir, body, options ?? {}),
});

function deadLetterQueue(
  queue: "submission" | "delivery",
  dlqDir: string,
  sourceDir: string,
): DeadLetterQueue {
  return {
    queue,
    async redrive(release) {
      let n = 0;
      for (const m of await LocalQueue.inspect<unknown>(dlqDir)) {
        await release(m.body);
        // Dropped before it is discarded: a crash between leaves a duplicate, never a loss.
        await LocalQueue.drop(sourceDir, m.body);
        await LocalQueue.discard(dlqDir, m.messageId);
        n++;
      }
      return n;
    },
  };
}

export class RelayHomeMissingError extends Error {
  override readonly name = "RelayHomeMissingError";
}

export async function localBackend(home: RelayHome, records: RecordStore): Promise<QueueBackend> {
  if (!existsSync(home.tracking))
    throw new RelayHomeMissingError(
      `no relay state in ${home.root}: start the relay there first (npm start), or name its directory with --home or RELAY_HOME`,
    );
  const tracking = new LocalTrackingStore(home.tracking);
  const messages = await LocalMessageStore.open(home.bodies);
  const dlqs = () => [
    { queue: "submission" as const, dir: home.submissionDlq },
    { queue: "delivery" as const, dir: home.deliveryDlq },
  ];
  return {
    deps: {
      records: { get: async () => buildRecordSet(await records.list()) },
      tracking,
      messages,
      submissionQueue: dropInto(home.submissionQueue),
      deliveryQueue: dropInto(home.deliveryQueue),
      clock: { now: () => new Date() },
      hostName: process.env.RELAY_HOST_NAME ?? hostname(),
      jobs: {
        async forMessage(messageId) {
          const queued = await LocalQueue.inspect<DeliveryJob>(home.deliveryQueue);
          return queued.map((m) => m.body).filter((j) => j?.messageId === messageId);
        },
      },
    },
    submissionCount: async () => (await LocalQueue.files(home.submissionQueue)).length,
    async poisonCount() {
      let n = 0;
      for (const q of dlqs()) n += (await LocalQueue.files(q.dir)).length;
      return n;
    },
    async deadLetters() {
      const out: DeadLetter[] = [];
      for (const q of dlqs())
        for (const m of await LocalQueue.inspect<DeadLetter["body"]>(q.dir))
          out.push({ queue: q.queue, id: m.messageId, body: m.body ?? {}, sentAt: m.sentAt });
      return out;
    },
    deadLetterQueues: () => [
      deadLetterQueue("submission", home.submissionDlq, home.submissionQueue),
      deadLetterQueue("delivery", home.deliveryDlq, home.deliveryQueue),
    ],
    close: () => tracking.close(),
  };
}
