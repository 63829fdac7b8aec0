// Next-hop limits in the local shape (test/support/next-hop-scenarios.ts): deliver workers on local mode's queue database, tracking and next-hop state in SQLite, real SMTP sinks.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, afterEach, beforeAll } from "vitest";
import { NodeDnsResolver } from "#adapters/dns/resolver.ts";
import { LocalHopStateStore } from "#adapters/local/hop-state-store.ts";
import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { openQueueStore } from "#adapters/local/queue.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import { MemorySecretStore } from "#adapters/memory/secret-store.ts";
import { NodemailerCourier } from "#adapters/smtp/courier.ts";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import { NextHopGovernor } from "#core/next-hop/governor.ts";
import { RecordCache } from "#core/records/cache.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { startWorker, type Worker } from "#local/worker.ts";
import { type LimitsDeployment, nextHopLimitScenarios } from "#test/support/next-hop-scenarios.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let sink: Sink;
let dir: string;
const workers: Worker[] = [];
const closers: { close(): void }[] = [];

beforeAll(async () => {
  sink = await startSink();
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  for (const s of closers.splice(0)) s.close();
  await rm(dir, { recursive: true, force: true });
  sink.script = {};
  sink.received.length = 0;
  sink.peakConnections = 0;
});

afterAll(async () => {
  await sink?.close();
});

/** A relay home and `runners` deliver workers on it, each with its own handler and courier, sharing limits.db. */
async function home(
  records: Record<string, unknown>[],
  runners: number,
): Promise<LimitsDeployment> {
  dir = await mkdtemp(join(tmpdir(), "relay-limits-"));
  const queues = openQueueStore(join(dir, "queues", "queues.db"));
  closers.push(queues);
  const delivery = queues.queue<DeliveryJob>("delivery", {
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 5,
    deadLetter: "delivery-dlq",
  });
  const submission = queues.queue<SubmittedMessage>("submission");
  const cache = new RecordCache(new MemoryRecordStore(records), { ttlMs: 60_000 });
  const messages = await LocalMessageStore.open(join(dir, "bodies"));
  const tracking = new LocalTrackingStore(join(dir, "tracking.db"));
  closers.push(tracking);
  const clock = { now: () => new Date() };
  const hopStore = () => {
    const s = new LocalHopStateStore(join(dir, "limits.db"));
    closers.push(s);
    return s;
  };
  for (let i = 0; i < runners; i++) {
    const handler = makeDeliverHandler({
      records: cache,
      tracking,
      messages,
      submissionQueue: submission,
      deliveryQueue: delivery,
      clock,
      hostName: "relay.test",
      dns: new NodeDnsResolver(),
      courier: new NodemailerCourier(),
      secrets: new MemorySecretStore({}),
      nextHops: new NextHopGovernor(hopStore(), clock),
      logger: new Logger({ serviceName: "relay-deliver", logLevel: "SILENT" }),
    });
    workers.push(
      startWorker({ name: "deliver", queue: delivery, handler, batchSize: 4, concurrency: 2 }),
    );
  }
  return {
    tracking,
    enqueue: async (jobs: DeliveryJob[]) => {
      for (const j of jobs) await delivery.send(j);
    },
    governor: new NextHopGovernor(hopStore(), clock),
  };
}

nextHopLimitScenarios("local", () => sink, home);
