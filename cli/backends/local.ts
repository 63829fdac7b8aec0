// The CLI's local back end: reads and writes RELAY_HOME beside a running relay, without its lock.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { type LocalQueue, openQueueStore } from "#adapters/local/queue.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import type { DeliveryJob } from "#core/message.ts";
import type { RecordStore } from "#core/ports.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import type { DeadLetterQueue } from "#core/usecases/admin-redrive.ts";
import { QUEUE, type RelayHome } from "#local/home.ts";
import type { DeadLetter, QueueBackend } from "./backend.ts";

/*
 * The queues are rows of one SQLite file (WAL, busy timeout), shared with a running relay: what
 * this side sends or moves is committed (fsynced) before the verb returns, and the relay's queue
 * thread notices another writer by the file's data_version and wakes its workers. Tracking is
 * shared the same way. Nothing here takes RELAY_HOME's lock.
 */

function deadLetterQueue(
  queue: "submission" | "delivery",
  dlq: LocalQueue<unknown>,
  source: string,
): DeadLetterQueue {
  return {
    queue,
    async redrive(release) {
      let n = 0;
      for (const m of await dlq.list()) {
        await release(m.body);
        // One statement moves it: no moment where it is in both queues or in neither.
        if (await dlq.moveTo(m.messageId, source)) n++;
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
  const store = openQueueStore(home.queues);
  const submission = store.queue<unknown>(QUEUE.submission);
  const delivery = store.queue<DeliveryJob>(QUEUE.delivery);
  const dlqs = [
    { queue: "submission" as const, q: store.queue<unknown>(QUEUE.submissionDlq) },
    { queue: "delivery" as const, q: store.queue<unknown>(QUEUE.deliveryDlq) },
  ];
  return {
    deps: {
      records: { get: async () => buildRecordSet(await records.list()) },
      tracking,
      messages,
      submissionQueue: submission,
      deliveryQueue: delivery,
      clock: { now: () => new Date() },
      hostName: process.env.RELAY_HOST_NAME ?? hostname(),
      jobs: {
        async forMessage(messageId) {
          const queued = await delivery.list();
          return queued.map((m) => m.body).filter((j) => j?.messageId === messageId);
        },
      },
    },
    submissionCount: () => submission.size(),
    async poisonCount() {
      let n = 0;
      for (const d of dlqs) n += await d.q.size();
      return n;
    },
    async deadLetters() {
      const out: DeadLetter[] = [];
      for (const d of dlqs)
        for (const m of await d.q.list())
          out.push({
            queue: d.queue,
            id: m.messageId,
            body: (m.body ?? {}) as DeadLetter["body"],
            sentAt: m.sentAt,
          });
      return out;
    },
    deadLetterQueues: () => [
      deadLetterQueue("submission", dlqs[0]!.q, QUEUE.submission),
      deadLetterQueue("delivery", dlqs[1]!.q, QUEUE.delivery),
    ],
    close: () => {
      tracking.close();
      store.close();
    },
  };
}
