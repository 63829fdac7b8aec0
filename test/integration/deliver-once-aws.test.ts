// No duplicate sends in the AWS shape: the deliver function on fauxqs (SQS) and dynalite (DynamoDB),
// driven by the event source mapping simulator that kills a handler at the function timeout.
import { Logger } from "@aws-lambda-powertools/logger";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { deliverDepsFromEnv } from "#adapters/aws/deliver-deps.ts";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { type AwsAdapters, awsAdaptersFromEnv } from "#adapters/aws/from-env.ts";
import { meteredHandler } from "#adapters/aws/function-deps.ts";
import type { DeliveryJob } from "#core/message.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { useCaseLog } from "#functions/shared/logger.ts";
import { type AwsEmulators, relayEnv, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { deliveriesAt, smartHostJob } from "#test/support/delivery-job.ts";
import { type EventSourceMapping, startEventSourceMapping } from "#test/support/esm-simulator.ts";
import { waitFor } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

/** Short enough for a test, long enough that an attempt fits with its margin (3.2 s of 4 s). */
const FUNCTION_TIMEOUT_SECONDS = 4;

let emu: AwsEmulators;
let sink: Sink;
let queueNo = 0;
const mappings: EventSourceMapping[] = [];

beforeAll(async () => {
  emu = await startAwsEmulators();
  sink = await startSink();
  await emu.createBucket("relay-bodies");
  await emu.createRecordTable("relay-records");
  await emu.createTrackingTable("relay-tracking");
});

afterEach(async () => {
  await Promise.all(mappings.splice(0).map((m) => m.stop()));
  sink.script = {};
  sink.received.length = 0;
});

afterAll(async () => {
  await sink?.close();
  await emu?.stop();
});

/** A delivery queue of its own and the deliver function wired from the environment, as the stack sets it. */
async function deployment() {
  const delivery = await emu.createQueue({
    name: `delivery-${++queueNo}`,
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 8,
  });
  const submission = await emu.createQueue({ name: `submission-${queueNo}` });
  const env: Record<string, string> = relayEnv(
    { submission: submission.url, delivery: delivery.url },
    { [RELAY_ENV.maxReceiveCount]: "5" },
  );
  const adapters: AwsAdapters = awsAdaptersFromEnv(env, emu);
  await adapters.recordStore.put({
    kind: "SendConnector",
    name: "Partner",
    addressSpaces: [{ domain: "fabrikam.test", cost: 1 }],
    dnsRoutingEnabled: false,
    smartHosts: [`127.0.0.1:${sink.port}`],
  });
  // One-second retries, so a deferred recipient comes back within the test.
  await adapters.recordStore.put({
    kind: "TransportSettings",
    retrySchedule: [{ intervalSeconds: 1, count: 10 }],
  });
  /** One execution environment of the deliver function: its own adapters, caches and courier. */
  const environment = () => {
    const logger = new Logger({ serviceName: "relay-deliver", logLevel: "SILENT" });
    const wired = deliverDepsFromEnv(useCaseLog(logger), env, emu, { writeMetrics: () => {} });
    return meteredHandler(makeDeliverHandler({ ...wired.deps, logger }), wired.metrics);
  };
  const start = (batchSize: number) =>
    startEventSourceMapping({
      name: "deliver",
      client: emu.sqs,
      queueUrl: delivery.url,
      environment,
      batchSize,
      maxConcurrency: 1,
      functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
    }).then((m) => {
      mappings.push(m);
      return m;
    });
  return { adapters, queueUrl: delivery.url, start };
}

async function enqueue(queueUrl: string, jobs: DeliveryJob[]): Promise<void> {
  await emu.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: jobs.map((j, i) => ({ Id: String(i), MessageBody: JSON.stringify(j) })),
    }),
  );
}

describe("no duplicate sends from the deliver function", () => {
  test("function timeout: a peer that stalls mid-DATA inside a batch of 5 costs one retry, not the batch", async () => {
    const { adapters, queueUrl, start } = await deployment();
    const recipients = ["a", "b", "stall", "c", "d"].map((n) => `${n}@fabrikam.test`);
    const jobs = recipients.map((r) => smartHostJob(r, sink));
    // The peer takes the whole message, then never answers the "." of the first transaction to
    // stall@ — longer than the function may run; a later connection is answered at once.
    let stalled = 0;
    sink.script = { stall: (to) => to.includes("stall@fabrikam.test") && ++stalled === 1 };
    await enqueue(queueUrl, jobs);
    const mapping = await start(5);

    await waitFor("every recipient delivered", async () => {
      const rows = await Promise.all(
        jobs.map((j) => adapters.trackingStore.get(j.messageId, j.recipients[0]!)),
      );
      return rows.every((r) => r?.status === "Delivered");
    });
    await waitFor("the queue drained", async () => (await emu.queueDepth(queueUrl)) === 0);

    const counts = deliveriesAt(sink);
    const duplicates = Object.values(counts).reduce((n, c) => n + c - 1, 0);
    console.info(`function timeout: duplicates at the sink ${duplicates}`);
    expect(counts).toEqual(Object.fromEntries(recipients.map((r) => [r, 1])));
    // The first invocation held all five and ended inside its timeout: the batch never came back.
    expect(mapping.invocations[0]?.messageIds).toHaveLength(5);
    expect(mapping.invocations.filter((i) => i.timedOut)).toEqual([]);
    const stallJob = jobs[2]!;
    const row = await adapters.trackingStore.get(stallJob.messageId, "stall@fabrikam.test");
    expect(row).toMatchObject({ status: "Delivered", attempts: 2 });
    const defer = (await adapters.trackingStore.events({ messageId: stallJob.messageId })).find(
      (e) => e.event === "DEFER",
    );
    expect(defer?.detail).toMatch(/451 4\.4\.2 Connection timed out: .*time limit/);
    for (const j of [jobs[0]!, jobs[1]!, jobs[3]!, jobs[4]!])
      expect(await adapters.trackingStore.get(j.messageId, j.recipients[0]!)).toMatchObject({
        status: "Delivered",
        attempts: 1,
      });
  });

  test("concurrent copies: the same job in two execution environments at once is sent once", async () => {
    const { adapters, queueUrl, start } = await deployment();
    const copy = smartHostJob("ann@fabrikam.test", sink);
    // A slow peer keeps the first copy's transaction open while the second copy starts.
    sink.script = { dataDelayMs: 1500 };
    const connections = sink.connections;
    await enqueue(queueUrl, [copy, copy]);
    const [first, second] = [await start(1), await start(1)];

    await waitFor("the job delivered", async () => {
      const row = await adapters.trackingStore.get(copy.messageId, "ann@fabrikam.test");
      return row?.status === "Delivered";
    });
    // The copy that found the claim came back after the lease and found nothing left to do.
    await waitFor("the queue drained", async () => (await emu.queueDepth(queueUrl)) === 0);

    const counts = deliveriesAt(sink);
    console.info(
      `concurrent copies: duplicates at the sink ${(counts["ann@fabrikam.test"] ?? 0) - 1}`,
    );
    expect(counts).toEqual({ "ann@fabrikam.test": 1 });
    expect(sink.connections - connections).toBe(1);
    // Both environments ran a copy, overlapping: each was invoked, none failed or timed out.
    expect(first.invocations.length).toBeGreaterThan(0);
    expect(second.invocations.length).toBeGreaterThan(0);
    const all = [...first.invocations, ...second.invocations];
    expect(all.flatMap((i) => i.failed)).toEqual([]);
    expect(await adapters.trackingStore.get(copy.messageId, "ann@fabrikam.test")).toMatchObject({
      status: "Delivered",
      attempts: 1,
    });
  });
});
