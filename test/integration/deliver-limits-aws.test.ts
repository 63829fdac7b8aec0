// Next-hop limits in the AWS shape: deliver functions wired from the environment on fauxqs (SQS) and dynalite (DynamoDB, the Limits table), three execution environments at once.
import { Logger } from "@aws-lambda-powertools/logger";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { deliverDepsFromEnv } from "#adapters/aws/deliver-deps.ts";
import { DynamoHopStateStore } from "#adapters/aws/dynamodb-hop-state.ts";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { awsAdaptersFromEnv } from "#adapters/aws/from-env.ts";
import { meteredHandler } from "#adapters/aws/function-deps.ts";
import type { DeliveryJob } from "#core/message.ts";
import { NextHopGovernor } from "#core/next-hop/governor.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { useCaseLog } from "#functions/shared/logger.ts";
import { type AwsEmulators, relayEnv, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { deliveriesAt, smartHostJob } from "#test/support/delivery-job.ts";
import { type EventSourceMapping, startEventSourceMapping } from "#test/support/esm-simulator.ts";
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

let emu: AwsEmulators;
let sink: Sink;
let n = 0;
const mappings: EventSourceMapping[] = [];

beforeAll(async () => {
  emu = await startAwsEmulators();
  sink = await startSink();
  await emu.createBucket("relay-bodies");
});

afterEach(async () => {
  await Promise.all(mappings.splice(0).map((m) => m.stop()));
  sink.script = {};
  sink.received.length = 0;
  sink.peakConnections = 0;
});

afterAll(async () => {
  await sink?.close();
  await emu?.stop();
});

/** Tables and queues of their own, records stored, and `environments` deliver functions polling at once. */
async function deployment(records: Record<string, unknown>[], environments: number) {
  n += 1;
  const [recordTable, trackingTable, limitsTable] = ["records", "tracking", "limits"].map(
    (t) => `relay-${t}-limits-${n}`,
  ) as [string, string, string];
  await emu.createRecordTable(recordTable);
  await emu.createTrackingTable(trackingTable);
  await emu.createLimitsTable(limitsTable);
  const delivery = await emu.createQueue({ name: `delivery-limits-${n}`, maxReceiveCount: 5 });
  const submission = await emu.createQueue({ name: `submission-limits-${n}` });
  const env = relayEnv(
    { submission: submission.url, delivery: delivery.url },
    {
      [RELAY_ENV.recordTable]: recordTable,
      [RELAY_ENV.trackingTable]: trackingTable,
      [RELAY_ENV.limitsTable]: limitsTable,
      [RELAY_ENV.recordCacheSeconds]: "0",
    },
  );
  const adapters = awsAdaptersFromEnv(env, emu);
  for (const r of records) await adapters.recordStore.put(r);
  const environment = () => {
    const logger = new Logger({ serviceName: "relay-deliver", logLevel: "SILENT" });
    const wired = deliverDepsFromEnv(useCaseLog(logger), env, emu, { writeMetrics: () => {} });
    return meteredHandler(makeDeliverHandler({ ...wired.deps, logger }), wired.metrics);
  };
  mappings.push(
    await startEventSourceMapping({
      name: "deliver",
      client: emu.sqs,
      queueUrl: delivery.url,
      environment,
      batchSize: 4,
      maxConcurrency: environments,
      functionTimeoutSeconds: 30,
    }),
  );
  const tracking = adapters.trackingStore;
  const enqueue = (jobs: DeliveryJob[]) =>
    emu.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: delivery.url,
        Entries: jobs.map((j, i) => ({ Id: String(i), MessageBody: JSON.stringify(j) })),
      }),
    );
  const delivered = (jobs: DeliveryJob[]) =>
    waitFor(
      "every recipient delivered",
      async () => {
        const rows = await Promise.all(
          jobs.map((j) => tracking.get(j.messageId, j.recipients[0]!)),
        );
        return rows.every((r) => r?.status === "Delivered");
      },
      60_000,
    );
  const governor = new NextHopGovernor(
    new DynamoHopStateStore({ client: emu.dynamo, tableName: limitsTable }),
    { now: () => new Date() },
  );
  return { tracking, enqueue, delivered, governor };
}

describe("next-hop limits across deliver invocations (AWS shape)", () => {
  test("a burst of 10 from three execution environments with maxPerDomainOutboundConnections 2: at most 2 connections at the sink", async () => {
    const { tracking, enqueue, delivered } = await deployment(
      [limitedConnector(sink, { maxPerDomainOutboundConnections: 2 }), FAST_SETTINGS],
      3,
    );
    sink.script = { dataDelayMs: 300 };
    const jobs = Array.from({ length: 10 }, (_, i) => smartHostJob(`r${i}@fabrikam.test`, sink));
    const started = Date.now();
    await enqueue(jobs);
    await delivered(jobs);
    console.info(
      `aws burst: peak ${sink.peakConnections} connection(s) at the sink, 10 messages in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(sink.peakConnections).toBeLessThanOrEqual(2);
    expect(deliveriesAt(sink)).toEqual(Object.fromEntries(jobs.map((j) => [j.recipients[0], 1])));
    for (const j of jobs)
      expect(await tracking.get(j.messageId, j.recipients[0]!)).toMatchObject({ attempts: 1 });
  });

  test("421 4.7.28 from the smart host: the other jobs for it wait for the backoff, unattempted", async () => {
    const { tracking, enqueue, delivered, governor } = await deployment(
      [limitedConnector(sink, {}), FAST_SETTINGS],
      2,
    );
    const rcptAt = throttleFirstRcpt(sink);
    const first = smartHostJob("first@fabrikam.test", sink);
    await enqueue([first]);
    await waitFor("the first job deferred", async () => {
      return (await tracking.get(first.messageId, "first@fabrikam.test"))?.status === "Deferred";
    });
    const until = (await governor.hop(first.nextHopKey))?.throttle?.until ?? 0;
    expect(until).toBeGreaterThan(0);
    const others = ["a", "b", "c"].map((x) => smartHostJob(`${x}@fabrikam.test`, sink));
    await enqueue(others);
    await delivered([first, ...others]);
    for (const j of others) {
      expect(rcptAt.get(j.recipients[0]!)).toBeGreaterThanOrEqual(until);
      expect(await tracking.get(j.messageId, j.recipients[0]!)).toMatchObject({ attempts: 1 });
    }
  });

  test("a dead smart host is skipped once its circuit opens and the cost-2 connector takes over", async () => {
    const dead = await closedPort();
    const { tracking, enqueue, delivered, governor } = await deployment(
      [...failoverConnectors(sink, dead), FAST_SETTINGS],
      1,
    );
    const jobs = Array.from({ length: 6 }, (_, i) => primaryJob(`f${i}@fabrikam.test`, sink, dead));
    const atSink = rcptTimes(sink);
    const started = Date.now();
    // Three jobs meet the refused port (one batch, in parallel) and open its circuit...
    await enqueue(jobs.slice(0, 3));
    await waitFor("the circuit open", async () => {
      return (await governor.circuit("127.0.0.1", dead))?.openUntil !== undefined;
    });
    // ...so later jobs skip it without connecting and go out through the cost-2 connector at once.
    await enqueue(jobs.slice(3));
    await delivered(jobs);
    console.info(
      `aws failover: first message through the cost-2 connector after ${(atSink[0] ?? 0) - started} ms`,
    );
    expect(await governor.circuit("127.0.0.1", dead)).toMatchObject({ failures: 3, opens: 1 });
    for (const j of jobs.slice(3)) {
      expect(await tracking.get(j.messageId, j.recipients[0]!)).toMatchObject({ attempts: 1 });
      const events = await tracking.events({ messageId: j.messageId });
      expect(events.find((e) => e.event === "ROUTE")?.detail).toMatch(
        /^Failover from send connector "Primary" to "Backup": every smart host has an open circuit/,
      );
    }
    expect(Object.keys(deliveriesAt(sink))).toHaveLength(6);
  });
});
