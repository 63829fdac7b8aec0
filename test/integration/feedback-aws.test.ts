// Suppression list and delivery events in the AWS shape: the deliver function wired from the stack's
// variables on fauxqs (SQS) and dynalite (DynamoDB), a scripted SMTP sink, and a stand-in for the
// EventBridge API that records PutEvents (no EventBridge emulator exists among our dev dependencies).
import { Logger } from "@aws-lambda-powertools/logger";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { deliverDepsFromEnv } from "#adapters/aws/deliver-deps.ts";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { awsAdaptersFromEnv } from "#adapters/aws/from-env.ts";
import { meteredHandler } from "#adapters/aws/function-deps.ts";
import { SqsQueue } from "#adapters/aws/sqs.ts";
import type { DeliveryEvent } from "#core/events/delivery-event.ts";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import { decodeInline } from "#core/usecases/body.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { useCaseLog } from "#functions/shared/logger.ts";
import { type AwsEmulators, relayEnv, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { smartHostJob } from "#test/support/delivery-job.ts";
import { parseReport } from "#test/support/dsn.ts";
import { type EventSourceMapping, startEventSourceMapping } from "#test/support/esm-simulator.ts";
import {
  type EventBridgeStandIn,
  startEventBridgeStandIn,
} from "#test/support/eventbridge-standin.ts";
import { waitFor } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let emu: AwsEmulators;
let bus: EventBridgeStandIn;
let sink: Sink;
let mapping: EventSourceMapping | undefined;

beforeAll(async () => {
  [emu, bus, sink] = await Promise.all([
    startAwsEmulators(),
    startEventBridgeStandIn(),
    startSink(),
  ]);
  await emu.createBucket("relay-bodies");
  await emu.createRecordTable("relay-records");
  await emu.createTrackingTable("relay-tracking");
});

afterAll(async () => {
  await mapping?.stop();
  await Promise.all([sink?.close(), bus?.stop()]);
  await emu?.stop();
});

const enqueue = (queueUrl: string, jobs: DeliveryJob[]) =>
  emu.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: jobs.map((j, i) => ({ Id: String(i), MessageBody: JSON.stringify(j) })),
    }),
  );

test("hard bounce → suppression item with TTL → next message suppressed with an NDR; one EventBridge entry per outcome", async () => {
  const delivery = await emu.createQueue({
    name: "delivery-feedback",
    visibilityTimeoutSeconds: 8,
  });
  const submission = await emu.createQueue({ name: "submission-feedback" });
  const env = relayEnv(
    { submission: submission.url, delivery: delivery.url },
    { [RELAY_ENV.eventBus]: "relay-events" },
  );
  const adapters = awsAdaptersFromEnv(env, emu);
  await adapters.recordStore.put({
    kind: "SendConnector",
    name: "Partner",
    addressSpaces: [{ domain: "fabrikam.test", cost: 1 }],
    dnsRoutingEnabled: false,
    smartHosts: [`127.0.0.1:${sink.port}`],
  });
  await adapters.recordStore.put({
    kind: "TransportSettings",
    retrySchedule: [{ intervalSeconds: 1, count: 10 }],
    messageExpirationTimeoutSeconds: 3,
    delayNotificationTimeoutSeconds: 0,
  });
  sink.script = {
    rcpt: (a) =>
      a === "gone@fabrikam.test"
        ? "550 5.1.1 User unknown"
        : a === "busy@fabrikam.test"
          ? "451 4.2.1 Mailbox busy"
          : undefined,
  };
  // The first entry PutEvents is given is refused (as EventBridge does per entry when throttled).
  bus.refuseNext = 1;
  mapping = await startEventSourceMapping({
    name: "deliver",
    client: emu.sqs,
    queueUrl: delivery.url,
    environment: () => {
      const logger = new Logger({ serviceName: "relay-deliver", logLevel: "SILENT" });
      const wired = deliverDepsFromEnv(
        useCaseLog(logger),
        env,
        {
          ...emu,
          eventBridge: bus.client,
        },
        { writeMetrics: () => {} },
      );
      return meteredHandler(makeDeliverHandler({ ...wired.deps, logger }), wired.metrics);
    },
    batchSize: 5,
    maxConcurrency: 2,
    functionTimeoutSeconds: 10,
  });
  const [ann, gone, busy] = ["ann", "gone", "busy"].map((n) =>
    smartHostJob(`${n}@fabrikam.test`, sink),
  ) as [DeliveryJob, DeliveryJob, DeliveryJob];
  gone.dsn = { envid: "invoice-42" };
  await enqueue(delivery.url, [ann, gone, busy]);

  const key = { pk: { S: "SUPPRESSION" }, sk: { S: "RCPT#gone@fabrikam.test" } };
  await waitFor("the hard bounce on the suppression list", async () => {
    const r = await emu.dynamo.send(new GetItemCommand({ TableName: "relay-tracking", Key: key }));
    return r.Item !== undefined;
  });
  const item = await emu.dynamo.send(new GetItemCommand({ TableName: "relay-tracking", Key: key }));
  const ttl = Number(item.Item?.expiresAt?.N);
  expect(ttl * 1000 - Date.now()).toBeGreaterThan(14 * 86_400_000 - 60_000);
  expect(ttl * 1000 - Date.now()).toBeLessThanOrEqual(14 * 86_400_000 + 1000);

  const again = smartHostJob("gone@fabrikam.test", sink);
  await enqueue(delivery.url, [again]);
  await waitFor("every recipient final", async () => {
    const rows = await Promise.all(
      [ann, gone, busy, again].map((j) =>
        adapters.trackingStore.get(j.messageId, j.recipients[0]!),
      ),
    );
    return rows.every((r) => r && ["Delivered", "Failed", "Expired"].includes(r.status));
  });
  await waitFor("the queue drained", async () => (await emu.queueDepth(delivery.url)) === 0);

  expect(sink.rcptSeen.filter((a) => a === "gone@fabrikam.test")).toHaveLength(1);
  const row = await adapters.trackingStore.get(again.messageId, "gone@fabrikam.test");
  expect(row?.status).toBe("Failed");
  expect(row?.lastError).toMatch(
    /^550 5\.1\.1 Not attempted: recipient on the suppression list since /,
  );

  // The NDR for the suppressed recipient is queued for routing like any report.
  const reports = await new SqsQueue<SubmittedMessage>({
    client: emu.sqs,
    queueUrl: submission.url,
  }).receive(10, 30);
  const raws = reports.map((m) =>
    "storeKey" in m.body.body ? Buffer.alloc(0) : Buffer.from(decodeInline(m.body.body)),
  );
  const ndr = raws.find((raw) => raw.toString("utf8").includes(again.messageId));
  const report = await parseReport(ndr ?? Buffer.alloc(0));
  expect(report.perRecipient[0]?.["diagnostic-code"]).toMatch(
    /^smtp; 550 5\.1\.1 Recipient address suppressed since \S+ after a hard bounce; the remote server said: 550 5\.1\.1 User unknown$/,
  );

  // EventBridge: every entry on the relay's bus, source and detail-type for rules, detail the event.
  for (const e of bus.accepted) {
    expect(e.EventBusName).toBe("relay-events");
    expect(e.Source).toBe("connector-relay");
  }
  const events = bus.accepted.map((e) => ({
    detailType: e.DetailType,
    detail: JSON.parse(e.Detail ?? "{}") as DeliveryEvent,
  }));
  const of = (job: DeliveryJob) =>
    events.filter((e) => e.detail.messageId === job.messageId).map((e) => e.detailType);
  expect(of(ann)).toEqual(["Recipient Delivered"]);
  expect(of(gone)).toEqual(["Recipient Bounced"]);
  expect(of(again)).toEqual(["Recipient Suppressed"]);
  expect(of(busy)[0]).toBe("Recipient Deferred");
  expect(of(busy).at(-1)).toBe("Recipient Expired");
  const bounced = events.find((e) => e.detailType === "Recipient Bounced")!.detail;
  expect(bounced).toMatchObject({
    type: "bounced",
    messageId: gone.messageId,
    envid: "invoice-42",
    sender: "app@contoso.test",
    recipient: "gone@fabrikam.test",
    connector: "Partner",
    nextHop: `127.0.0.1:${sink.port}`,
    remoteHost: expect.stringContaining("127.0.0.1"),
    reply: "550 5.1.1 User unknown",
    attempt: 1,
  });
  expect(Date.parse(bounced.time)).not.toBeNaN();
  expect(events.find((e) => e.detailType === "Recipient Suppressed")?.detail.suppressedSince).toBe(
    JSON.parse(item.Item?.entry?.S ?? "{}").since,
  );
  expect(bus.refuseNext).toBe(0);
}, 60_000);
