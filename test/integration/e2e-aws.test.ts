// End to end in the AWS shape: SMTP → listener → SQS (fauxqs) → event source mapping → route →
// SQS → event source mapping → deliver → a loopback SMTP sink, with records and tracking in
// DynamoDB (dynalite), bodies in S3 (fauxqs) and every part wired from environment variables as
// the CDK stack sets them.

import { Logger } from "@aws-lambda-powertools/logger";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deliverDepsFromEnv } from "#adapters/aws/deliver-deps.ts";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { type AwsAdapters, awsAdaptersFromEnv } from "#adapters/aws/from-env.ts";
import { meteredHandler, relayDepsFromEnv } from "#adapters/aws/function-deps.ts";
import { metricsFromEnv } from "#adapters/aws/metrics.ts";
import type { EmfMetrics } from "#adapters/observability/metrics.ts";
import type { RecipientRow } from "#core/ports.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { makeRouteHandler } from "#functions/route/handler.ts";
import { useCaseLog } from "#functions/shared/logger.ts";
import { listenerConfigFromEnv } from "#listener/main.ts";
import { createListener, type Listener } from "#listener/server.ts";
import { type AwsEmulators, relayEnv, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";
import {
  type EventSourceMapping,
  failedIds,
  startEventSourceMapping,
} from "#test/support/esm-simulator.ts";
import { waitFor as until } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import { RawSmtpClient, transaction } from "#test/support/smtp-client.ts";

let emu: AwsEmulators;
let sink: Sink;
let dns: TestDnsServer;
let listener: Listener;
let listenerMetrics: EmfMetrics;
let adapters: AwsAdapters;
let submissionDlq: string;
const mappings: EventSourceMapping[] = [];
const metricLines: string[] = [];
let routeMapping: EventSourceMapping;
/** Recipients the sink defers once with 451 before accepting. */
const deferOnce = new Set(["retry@fabrikam.test"]);

beforeAll(async () => {
  emu = await startAwsEmulators();
  sink = await startSink({
    script: {
      rcpt: (address) => {
        if (!deferOnce.delete(address)) return undefined;
        return "451 4.7.1 Greylisted, try again later";
      },
    },
  });
  dns = await startDnsServer({
    "example.org": { MX: [{ exchange: "mx.example.org", priority: 10 }] },
    "mx.example.org": { A: ["127.0.0.1"] },
  });
  // What the stack creates: queues with DLQs (maxReceiveCount 2 here, to be quick), bucket, tables.
  const submission = await emu.createQueue({
    name: "submission",
    maxReceiveCount: 2,
    visibilityTimeoutSeconds: 2,
  });
  const delivery = await emu.createQueue({
    name: "delivery",
    maxReceiveCount: 2,
    visibilityTimeoutSeconds: 10,
  });
  submissionDlq = submission.dlqUrl!;
  await emu.createBucket("relay-bodies");
  await emu.createRecordTable("relay-records");
  await emu.createTrackingTable("relay-tracking");

  // The variables the stack sets on the task and the functions (adapters/aws/env.ts).
  const env: Record<string, string> = relayEnv(
    { submission: submission.url, delivery: delivery.url },
    {
      [RELAY_ENV.maxReceiveCount]: "2",
      [RELAY_ENV.mxDeliveryEnabled]: "false",
      [RELAY_ENV.recordCacheSeconds]: "1",
      [RELAY_ENV.metricsService]: "RelayE2e",
      // The task binds unprivileged ports for the public ones; here any free port for 25.
      [RELAY_ENV.bindPorts]: JSON.stringify({ "25": 0 }),
    },
  );

  adapters = awsAdaptersFromEnv(env, emu);
  for (const record of [
    { kind: "AcceptedDomain", domain: "contoso.test" },
    {
      kind: "ReceiveConnector",
      name: "App Relay",
      bindings: ["127.0.0.1:25"],
      remoteIpRanges: ["127.0.0.0/8"],
      authMechanisms: ["None"],
      permissionGroups: ["AnonymousUsers"],
      grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
      tarpitInterval: 0,
    },
    {
      kind: "SendConnector",
      name: "Partner",
      addressSpaces: [{ domain: "fabrikam.test", cost: 1 }],
      dnsRoutingEnabled: false,
      smartHosts: [`127.0.0.1:${sink.port}`],
    },
    {
      kind: "SendConnector",
      name: "To Internet",
      usage: "Internet",
      addressSpaces: [{ domain: "*", cost: 1 }],
      externalDnsServers: [dns.address],
    },
    // One-second retries, so a deferral comes back within the test.
    { kind: "TransportSettings", retrySchedule: [{ intervalSeconds: 1, count: 10 }] },
  ])
    await adapters.recordStore.put(record);

  const quiet = { info() {}, warn() {}, error() {} };
  listenerMetrics = metricsFromEnv(env, quiet, { write: (l) => metricLines.push(l) });
  listener = createListener({
    records: adapters.recordCache,
    queue: adapters.submissionQueue,
    messageStore: adapters.messageStore,
    config: listenerConfigFromEnv(env),
    logger: quiet,
    metrics: listenerMetrics,
    protocolLog: { write() {} },
  });
  await listener.start();

  // The functions exactly as functions/*/lambda.ts build them, with the emulators' clients.
  const logger = (serviceName: string) => new Logger({ serviceName, logLevel: "SILENT" });
  const routeLogger = logger("relay-route");
  const route = relayDepsFromEnv(useCaseLog(routeLogger), env, emu, {
    writeMetrics: (l) => metricLines.push(l),
  });
  const deliverLogger = logger("relay-deliver");
  const deliver = deliverDepsFromEnv(useCaseLog(deliverLogger), env, emu, {
    writeMetrics: (l) => metricLines.push(l),
  });
  routeMapping = await startEventSourceMapping({
    name: "route",
    client: emu.sqs,
    queueUrl: submission.url,
    handler: meteredHandler(
      makeRouteHandler({ ...route.deps, logger: routeLogger }),
      route.metrics,
    ),
    batchSize: 10,
  });
  mappings.push(
    routeMapping,
    await startEventSourceMapping({
      name: "deliver",
      client: emu.sqs,
      queueUrl: delivery.url,
      handler: meteredHandler(
        makeDeliverHandler({ ...deliver.deps, logger: deliverLogger }),
        deliver.metrics,
      ),
      batchSize: 5,
    }),
  );
});

afterAll(async () => {
  await Promise.all(mappings.map((m) => m.stop()));
  await listener?.stop();
  await Promise.all([sink?.close(), dns?.close()]);
  await emu?.stop();
});

/** Sends one message over SMTP to the listener's port 25 and returns the relay's message id. */
async function submit(to: string[], subject: string, body = "Hello from the AWS shape.\r\n") {
  const port = listener.addresses().find((a) => a.port === 25)!.actualPort;
  const client = await RawSmtpClient.connect({ host: "127.0.0.1", port });
  try {
    expect((await client.read()).code).toBe(220);
    await client.command("EHLO app.contoso.test");
    const message = `From: app@contoso.test\r\nTo: ${to.join(", ")}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@contoso.test>\r\n\r\n${body}`;
    const r = await transaction(client, "app@contoso.test", to, message);
    const text = r.end?.lines.join(" ") ?? "";
    expect(r.end?.code, text).toBe(250);
    const id = /2\.6\.0 <([^>]+)>/.exec(text)?.[1];
    expect(id, text).toBeDefined();
    return id!;
  } finally {
    await client.command("QUIT").catch(() => {});
    client.destroy();
  }
}

const rows = (id: string) => adapters.trackingStore.listByMessage(id);
const statusOf = async (id: string, recipient: string): Promise<RecipientRow | undefined> =>
  (await rows(id)).find((r) => r.recipient.toLowerCase() === recipient);

describe("AWS shape, end to end", () => {
  test("a message accepted over SMTP is routed and delivered to the smart host, and tracked", async () => {
    const id = await submit(["alice@fabrikam.test", "bob@fabrikam.test"], "Quarterly report");
    await until(
      "delivery",
      async () =>
        (await rows(id)).every((r) => r.status === "Delivered") && (await rows(id)).length === 2,
    );
    const got = sink.received.find((m) => m.raw.toString().includes("Subject: Quarterly report"))!;
    expect(got.mailFrom).toBe("app@contoso.test");
    expect(got.rcptTo.sort()).toEqual(["alice@fabrikam.test", "bob@fabrikam.test"]);
    const row = await statusOf(id, "alice@fabrikam.test");
    expect(row).toMatchObject({
      connector: "Partner",
      status: "Delivered",
      sender: "app@contoso.test",
    });
    const events = (await adapters.trackingStore.events({ messageId: id })).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(["ROUTE", "DELIVER"]));
    expect((await adapters.trackingStore.listActive()).some((r) => r.messageId === id)).toBe(false);
  });

  test("a body above the claim-check threshold travels through S3 and arrives intact", async () => {
    const line = `${"x".repeat(75)}\r\n`;
    const body = line.repeat(4000); // ~300 KB, above the 192 KiB inline limit
    const id = await submit(["carol@fabrikam.test"], "Large attachment", body);
    await until(
      "delivery",
      async () => (await statusOf(id, "carol@fabrikam.test"))?.status === "Delivered",
    );
    const got = sink.received.find((m) => m.raw.toString().includes("Subject: Large attachment"))!;
    expect(got.raw.length).toBeGreaterThan(300_000);
    expect(got.raw.toString()).toContain(line.repeat(100));
    // Stored by the listener, read by deliver, deleted once every recipient is final.
    const key = emu.fauxqsRequests.find((r) => /^PUT \/relay-bodies\/.+/.test(r))?.slice(4);
    expect(key).toBeDefined();
    expect(emu.fauxqsRequests).toContain(`GET ${key}`);
    // The delete is the last step of recording the attempt, after the row says Delivered.
    await until("the body deleted", () => emu.fauxqsRequests.includes(`DELETE ${key}`));
  });

  test("a 451 is retried after the delay the schedule gives, then delivered; LastError shows the deferral", async () => {
    const id = await submit(["retry@fabrikam.test"], "Greylisted");
    await until(
      "the retry to succeed",
      async () => (await statusOf(id, "retry@fabrikam.test"))?.status === "Delivered",
    );
    const row = (await statusOf(id, "retry@fabrikam.test"))!;
    expect(row.attempts).toBe(2);
    expect(row.lastError).toMatch(/451 4\.7\.1 Greylisted/);
    const events = (await adapters.trackingStore.events({ messageId: id })).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(["DEFER", "DELIVER"]));
  });

  test("without AWS's port-25 approval, MX delivery is deferred at once with a LastError that says why", async () => {
    const id = await submit(["dave@example.org"], "To the Internet");
    await until(
      "the deferral",
      async () => (await statusOf(id, "dave@example.org"))?.status === "Deferred",
    );
    const row = (await statusOf(id, "dave@example.org"))!;
    expect(row.connector).toBe("To Internet");
    expect(row.lastError).toMatch(/451 4\.4\.1 Unable to connect: outbound port 25 is not enabled/);
    expect(sink.rcptSeen).not.toContain("dave@example.org");
  });

  test("a poison queue message fails alone in its batch and reaches the DLQ after maxReceiveCount", async () => {
    const sent = await emu.sqs.send(
      new SendMessageCommand({
        QueueUrl: adapters.submissionQueue.queueUrl,
        MessageBody: "{not json",
      }),
    );
    const poison = sent.MessageId!;
    const ok = await submit(["erin@fabrikam.test"], "Alongside poison");
    await until(
      "the poison message in the DLQ",
      async () => (await emu.queueDepth(submissionDlq)) === 1,
    );
    const tries = routeMapping.invocations.filter((i) => i.messageIds.includes(poison));
    expect(tries.map((i) => i.receiveCounts[i.messageIds.indexOf(poison)])).toEqual([1, 2]);
    for (const i of tries) expect(i.failed).toEqual([poison]);
    await until(
      "the good message",
      async () => (await statusOf(ok, "erin@fabrikam.test"))?.status === "Delivered",
    );
  });

  test("deliveries, deferrals and routing are counted as CloudWatch metrics (EMF) with the connector and next hop", () => {
    listenerMetrics.flush();
    type Emf = Record<string, unknown> & {
      _aws: {
        CloudWatchMetrics: Array<{
          Namespace: string;
          Dimensions: string[][];
          Metrics: Array<{ Name: string }>;
        }>;
      };
    };
    /** Totals per metric name and dimension values ("Delivered|Partner|127.0.0.1:port"). */
    const totals: Record<string, number> = {};
    for (const line of metricLines) {
      const doc = JSON.parse(line) as Emf;
      const [directive] = doc._aws.CloudWatchMetrics;
      expect(directive?.Namespace).toBe("ConnectorRelay");
      expect(doc.service).toBe("RelayE2e");
      // Every count is also published without the connector, for the dashboard's and alarms' totals.
      expect(directive?.Dimensions[0]).toEqual(["service"]);
      const finest = directive?.Dimensions.at(-1) ?? [];
      const values = finest.filter((d) => d !== "service").map((d) => doc[d]);
      for (const m of directive?.Metrics ?? []) {
        const key = [m.Name, ...values].join("|");
        totals[key] = (totals[key] ?? 0) + Number(doc[m.Name]);
        totals[m.Name] = (totals[m.Name] ?? 0) + Number(doc[m.Name]);
      }
    }
    const partner = `Partner|127.0.0.1:${sink.port}`;
    expect(totals[`Delivered|${partner}`]).toBeGreaterThanOrEqual(5);
    expect(totals[`Deferred|${partner}`]).toBeGreaterThanOrEqual(1);
    expect(totals[`Routed|${partner}`]).toBeGreaterThanOrEqual(5);
    expect(totals.Routed).toBeGreaterThanOrEqual(6);
    // An MX route: the connector only, never the recipient domain (unbounded, and billed per value).
    expect(totals["Deferred|To Internet"]).toBeGreaterThanOrEqual(1);
    expect(Object.keys(totals).filter((k) => k.includes("example.org"))).toEqual([]);
    expect(totals.Deferred).toBeGreaterThanOrEqual(2);
    expect(totals["Received|App Relay"]).toBeGreaterThanOrEqual(5);
  });
});

describe("the event source mapping simulator", () => {
  const records = ["a", "b", "c"].map((messageId) => ({ messageId }) as never);
  test("applies Lambda's partial batch response rules", () => {
    expect(failedIds(records, undefined)).toEqual([]);
    expect(failedIds(records, { batchItemFailures: [{ itemIdentifier: "b" }] })).toEqual(["b"]);
    // An empty or unknown identifier makes the whole batch fail, as Lambda does.
    expect(failedIds(records, { batchItemFailures: [{ itemIdentifier: "zz" }] })).toEqual([
      "a",
      "b",
      "c",
    ]);
    expect(failedIds(records, { batchItemFailures: [{ itemIdentifier: "" }] })).toHaveLength(3);
  });
});
