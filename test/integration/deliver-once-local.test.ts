// No duplicate sends in the local shape: the deliver handler fed by local mode's worker from the
// spool, tracking in SQLite. The worker's deadline is the queue's visibility timeout, after which a
// job still in flight would be handed out again: it plays the part of Lambda's function timeout.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { NodeDnsResolver } from "#adapters/dns/resolver.ts";
import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { openQueueStore, type QueueStore } from "#adapters/local/queue.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import { MemorySecretStore } from "#adapters/memory/secret-store.ts";
import { NodemailerCourier } from "#adapters/smtp/courier.ts";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import { RecordCache } from "#core/records/cache.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { startWorker, type Worker } from "#local/worker.ts";
import { deliveriesAt, smartHostJob } from "#test/support/delivery-job.ts";
import { waitFor } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let sink: Sink;
let dir: string;
const workers: Worker[] = [];
const stores: LocalTrackingStore[] = [];
const queueStores: QueueStore[] = [];

beforeAll(async () => {
  sink = await startSink();
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  for (const s of stores.splice(0)) s.close();
  for (const s of queueStores.splice(0)) s.close();
  await rm(dir, { recursive: true, force: true });
  sink.script = {};
  sink.received.length = 0;
});

afterAll(async () => {
  await sink?.close();
});

/** A relay home's queues and tracking file, and deliver workers on them as local mode starts them. */
async function home(visibilityTimeoutSeconds: number) {
  dir = await mkdtemp(join(tmpdir(), "relay-once-"));
  const queues = openQueueStore(join(dir, "queues", "queues.db"));
  queueStores.push(queues);
  const delivery = queues.queue<DeliveryJob>("delivery", {
    visibilityTimeoutSeconds,
    maxReceiveCount: 5,
    deadLetter: "delivery-dlq",
  });
  const submission = queues.queue<SubmittedMessage>("submission");
  const records = new RecordCache(
    new MemoryRecordStore([
      {
        kind: "SendConnector",
        name: "Partner",
        addressSpaces: [{ domain: "fabrikam.test", cost: 1 }],
        dnsRoutingEnabled: false,
        smartHosts: [`127.0.0.1:${sink.port}`],
      },
      { kind: "TransportSettings", retrySchedule: [{ intervalSeconds: 1, count: 10 }] },
    ]),
    { ttlMs: 60_000 },
  );
  const messages = await LocalMessageStore.open(join(dir, "bodies"));
  // One connection to the tracking file: two in one thread would wait on each other's
  // turn-long write transaction (see LocalTrackingStore).
  const tracking = new LocalTrackingStore(join(dir, "tracking.db"));
  stores.push(tracking);
  /** A deliver handler of its own (its own in-flight set and courier), as a second runner would have. */
  const worker = (batchSize: number) => {
    const handler = makeDeliverHandler({
      records,
      tracking,
      messages,
      submissionQueue: submission,
      deliveryQueue: delivery,
      clock: { now: () => new Date() },
      hostName: "relay.test",
      dns: new NodeDnsResolver(),
      courier: new NodemailerCourier(),
      secrets: new MemorySecretStore({}),
      logger: new Logger({ serviceName: "relay-deliver", logLevel: "SILENT" }),
    });
    workers.push(
      startWorker({
        name: "deliver",
        queue: delivery,
        handler,
        batchSize,
        visibilityTimeoutSeconds,
      }),
    );
    return tracking;
  };
  return { delivery, worker };
}

describe("no duplicate sends in local mode", () => {
  test("function timeout: a peer that stalls mid-DATA inside a batch of 5 is cut off before the job is handed out again", async () => {
    const { delivery, worker } = await home(4);
    const recipients = ["a", "b", "stall", "c", "d"].map((n) => `${n}@fabrikam.test`);
    const jobs = recipients.map((r) => smartHostJob(r, sink));
    let stalled = 0;
    sink.script = { stall: (to) => to.includes("stall@fabrikam.test") && ++stalled === 1 };
    for (const j of jobs) await delivery.send(j);
    const tracking = worker(5);

    await waitFor("every recipient delivered", async () => {
      const rows = await Promise.all(jobs.map((j) => tracking.get(j.messageId, j.recipients[0]!)));
      return rows.every((r) => r?.status === "Delivered");
    });
    await waitFor("the queue drained", async () => (await delivery.size()) === 0);

    expect(deliveriesAt(sink)).toEqual(Object.fromEntries(recipients.map((r) => [r, 1])));
    expect(await tracking.get(jobs[2]!.messageId, "stall@fabrikam.test")).toMatchObject({
      status: "Delivered",
      attempts: 2,
    });
  });

  test("concurrent copies: the same job in two deliver handlers at once is sent once", async () => {
    const { delivery, worker } = await home(4);
    const copy = smartHostJob("ann@fabrikam.test", sink);
    sink.script = { dataDelayMs: 1500 };
    const connections = sink.connections;
    await delivery.send(copy);
    await delivery.send(copy);
    const tracking = worker(1);
    worker(1);

    await waitFor("the job delivered", async () => {
      const row = await tracking.get(copy.messageId, "ann@fabrikam.test");
      return row?.status === "Delivered";
    });
    await waitFor("the queue drained", async () => (await delivery.size()) === 0);

    expect(deliveriesAt(sink)).toEqual({ "ann@fabrikam.test": 1 });
    expect(sink.connections - connections).toBe(1);
  });
});
