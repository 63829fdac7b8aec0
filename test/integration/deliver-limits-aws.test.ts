// Next-hop limits in the AWS shape (test/support/next-hop-scenarios.ts): deliver functions wired from the environment on fauxqs (SQS) and dynalite (DynamoDB, the Limits table), several execution environments at once.
import { Logger } from "@aws-lambda-powertools/logger";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll } from "vitest";
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
import { type EventSourceMapping, startEventSourceMapping } from "#test/support/esm-simulator.ts";
import { type LimitsDeployment, nextHopLimitScenarios } from "#test/support/next-hop-scenarios.ts";
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
async function deployment(
  records: Record<string, unknown>[],
  environments: number,
): Promise<LimitsDeployment> {
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
  // SendMessageBatch takes at most 10 entries.
  const enqueue = async (jobs: DeliveryJob[]) => {
    for (let at = 0; at < jobs.length; at += 10)
      await emu.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: delivery.url,
          Entries: jobs
            .slice(at, at + 10)
            .map((j, i) => ({ Id: String(i), MessageBody: JSON.stringify(j) })),
        }),
      );
  };
  const governor = new NextHopGovernor(
    new DynamoHopStateStore({ client: emu.dynamo, tableName: limitsTable }),
    { now: () => new Date() },
  );
  return { tracking, enqueue, governor };
}

nextHopLimitScenarios("aws", () => sink, deployment);
