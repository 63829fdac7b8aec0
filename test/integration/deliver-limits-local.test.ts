// Next-hop limits in the local shape: deliver handlers on local mode's queue database, tracking and next-hop state in SQLite, real SMTP sinks.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
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
import { deliveriesAt, smartHostJob } from "#test/support/delivery-job.ts";
import {
  closedPort,
  FAST_SETTINGS,
  failoverConnectors,
  limitedConnector,
  primaryJob,
  rcptTimes,
  throttleFirstRcpt,
} from "#test/support/next-hop-fixtures.ts";
import { waitFor } from "#test/support/relay-process.ts";
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
async function home(records: Record<string, unknown>[], runners = 2) {
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
  const delivered = (jobs: DeliveryJob[]) =>
    waitFor("every recipient delivered", async () => {
      const rows = await Promise.all(jobs.map((j) => tracking.get(j.messageId, j.recipients[0]!)));
      return rows.every((r) => r?.status === "Delivered");
    });
  return { delivery, tracking, delivered, governor: new NextHopGovernor(hopStore(), clock) };
}

describe("next-hop limits in local mode", () => {
  test("a burst of 12 to one smart host with maxPerDomainOutboundConnections 2: never more than 2 connections at the sink", async () => {
    const { delivery, tracking, delivered } = await home([
      limitedConnector(sink, { maxPerDomainOutboundConnections: 2 }),
      FAST_SETTINGS,
    ]);
    // A slow peer, so attempts overlap: 2 runners × 2 batches × 4 jobs could hold 16 at once.
    sink.script = { dataDelayMs: 300 };
    const jobs = Array.from({ length: 12 }, (_, i) => smartHostJob(`r${i}@fabrikam.test`, sink));
    const started = Date.now();
    for (const j of jobs) await delivery.send(j);
    await delivered(jobs);
    const seconds = (Date.now() - started) / 1000;
    console.info(
      `local burst: peak ${sink.peakConnections} connection(s) at the sink, 12 messages in ${seconds.toFixed(1)} s`,
    );
    expect(sink.peakConnections).toBeLessThanOrEqual(2);
    expect(deliveriesAt(sink)).toEqual(Object.fromEntries(jobs.map((j) => [j.recipients[0], 1])));
    // Jobs sent back for a slot were not attempts: every row shows one attempt, no LastError.
    for (const j of jobs) {
      const row = await tracking.get(j.messageId, j.recipients[0]!);
      expect(row).toMatchObject({ status: "Delivered", attempts: 1 });
      expect(row?.lastError).toBeUndefined();
    }
  });

  test("a 421 4.7.28 reply backs the whole next hop off: other jobs reach the sink only after the backoff", async () => {
    const { delivery, tracking, delivered, governor } = await home([
      limitedConnector(sink, {}),
      FAST_SETTINGS,
    ]);
    const rcptAt = throttleFirstRcpt(sink);
    const first = smartHostJob("first@fabrikam.test", sink);
    await delivery.send(first);
    await waitFor("the first job deferred", async () => {
      const row = await tracking.get(first.messageId, "first@fabrikam.test");
      return row?.status === "Deferred";
    });
    const hop = await governor.hop(first.nextHopKey);
    expect(hop?.throttle?.lastError).toMatch(/421 4\.7\.28/);
    const until = hop!.throttle!.until;
    const others = ["a", "b", "c"].map((n) => smartHostJob(`${n}@fabrikam.test`, sink));
    for (const j of others) await delivery.send(j);
    await delivered([first, ...others]);
    for (const j of others) {
      expect(rcptAt.get(j.recipients[0]!)).toBeGreaterThanOrEqual(until);
      expect(await tracking.get(j.messageId, j.recipients[0]!)).toMatchObject({ attempts: 1 });
    }
    // The throttled message's own retry waited for the backoff too, without another attempt.
    expect(await tracking.get(first.messageId, "first@fabrikam.test")).toMatchObject({
      status: "Delivered",
      attempts: 2,
    });
  });

  test("a dead smart host: after 3 refused connections its circuit opens and the cost-2 connector takes the mail", async () => {
    const dead = await closedPort();
    const { delivery, tracking, delivered, governor } = await home(
      [...failoverConnectors(sink, dead), FAST_SETTINGS],
      1,
    );
    const jobs = Array.from({ length: 6 }, (_, i) => primaryJob(`f${i}@fabrikam.test`, sink, dead));
    const atSink = rcptTimes(sink);
    const started = Date.now();
    // Three jobs meet the refused port and open its circuit...
    for (const j of jobs.slice(0, 3)) await delivery.send(j);
    await waitFor("the circuit open", async () => {
      return (await governor.circuit("127.0.0.1", dead))?.openUntil !== undefined;
    });
    // ...so later jobs skip it without connecting and go out through the cost-2 connector at once.
    for (const j of jobs.slice(3)) await delivery.send(j);
    await delivered(jobs);
    console.info(
      `local failover: first message through the cost-2 connector after ${(atSink[0] ?? 0) - started} ms`,
    );
    expect(Object.keys(deliveriesAt(sink))).toHaveLength(6);
    const circuit = await governor.circuit("127.0.0.1", dead);
    expect(circuit).toMatchObject({ failures: 3, opens: 1 });
    expect(circuit?.lastError).toMatch(/451 4\.4\.1/);
    for (const j of jobs.slice(3)) {
      expect(await tracking.get(j.messageId, j.recipients[0]!)).toMatchObject({ attempts: 1 });
      const events = await tracking.events({ messageId: j.messageId });
      expect(events.find((e) => e.event === "ROUTE")?.detail).toMatch(
        /^Failover from send connector "Primary" to "Backup": every smart host has an open circuit \(127\.0\.0\.1:\d+ until /,
      );
    }
  });
});
