// DKIM in the AWS shape: the CLI with --aws writes the key to Secrets Manager (stand-in) and the config to DynamoDB (dynalite); route and deliver over SQS (fauxqs) send signed mail that mailauth verifies over loopback DNS.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, expect, test } from "vitest";
import { deliverDepsFromEnv } from "#adapters/aws/deliver-deps.ts";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { type AwsAdapters, awsAdaptersFromEnv } from "#adapters/aws/from-env.ts";
import { meteredHandler } from "#adapters/aws/function-deps.ts";
import { routeDepsFromEnv } from "#adapters/aws/route-deps.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { makeRouteHandler } from "#functions/route/handler.ts";
import { useCaseLog } from "#functions/shared/logger.ts";
import {
  type AwsEmulators,
  endpointOf,
  relayEnv,
  startAwsEmulators,
} from "#test/support/aws-emulators.ts";
import { runCli } from "#test/support/cli.ts";
import { type PrintedDnsRecord, publish, verifyDkim } from "#test/support/dkim.ts";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";
import { type EventSourceMapping, startEventSourceMapping } from "#test/support/esm-simulator.ts";
import { waitFor as until } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let emu: AwsEmulators;
let sink: Sink;
let dns: TestDnsServer;
let adapters: AwsAdapters;
let home: string;
const mappings: EventSourceMapping[] = [];
const metricLines: string[] = [];
const PREFIX = "connectorrelay/";
/** Data the sink defers once with 451 before accepting it. */
let deferNext = true;

beforeAll(async () => {
  emu = await startAwsEmulators();
  home = await mkdtemp(join(tmpdir(), "relay-dkim-aws-"));
  sink = await startSink();
  dns = await startDnsServer();
  const submission = await emu.createQueue({
    name: "submission",
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 5,
  });
  const delivery = await emu.createQueue({
    name: "delivery",
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 10,
  });
  await emu.createBucket("relay-bodies");
  await emu.createRecordTable("relay-records");
  await emu.createTrackingTable("relay-tracking");
  const env: Record<string, string> = relayEnv(
    { submission: submission.url, delivery: delivery.url },
    { [RELAY_ENV.secretPrefix]: PREFIX, [RELAY_ENV.recordCacheSeconds]: "1" },
  );
  adapters = awsAdaptersFromEnv(env, emu);
  for (const record of [
    {
      kind: "SendConnector",
      name: "Partner",
      addressSpaces: [{ domain: "*", cost: 1 }],
      dnsRoutingEnabled: false,
      smartHosts: [`127.0.0.1:${sink.port}`],
    },
    {
      kind: "TransportSettings",
      retrySchedule: [{ intervalSeconds: 1, count: 10 }],
      postmaster: "postmaster@contoso.test",
    },
  ])
    await adapters.recordStore.put(record);
  const quiet = (serviceName: string) => new Logger({ serviceName, logLevel: "SILENT" });
  const route = routeDepsFromEnv(useCaseLog(quiet("relay-route")), env, emu, {
    writeMetrics: (l) => metricLines.push(l),
  });
  const deliver = deliverDepsFromEnv(useCaseLog(quiet("relay-deliver")), env, emu, {
    writeMetrics: () => {},
  });
  mappings.push(
    await startEventSourceMapping({
      name: "route",
      client: emu.sqs,
      queueUrl: submission.url,
      handler: meteredHandler(
        makeRouteHandler({ ...route.deps, logger: quiet("r") }),
        route.metrics,
      ),
      batchSize: 10,
    }),
    await startEventSourceMapping({
      name: "deliver",
      client: emu.sqs,
      queueUrl: delivery.url,
      handler: meteredHandler(
        makeDeliverHandler({ ...deliver.deps, logger: quiet("d") }),
        deliver.metrics,
      ),
      batchSize: 5,
    }),
  );
  sink.script = {
    data: undefined,
    rcpt: (address) => {
      if (address !== "retry@fabrikam.test" || !deferNext) return undefined;
      deferNext = false;
      return "451 4.7.1 Greylisted, try again later";
    },
  };
}, 60_000);

afterAll(async () => {
  await Promise.all(mappings.map((m) => m.stop()));
  await Promise.all([sink?.close(), dns?.close()]);
  await emu?.stop();
  await rm(home, { recursive: true, force: true });
});

/** Queues one message as the listener would (the listener itself is covered by e2e-aws). */
async function queue(from: string, to: string, subject: string): Promise<void> {
  const raw = Buffer.from(
    `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@contoso.test>\r\n\r\nHello.\r\n`,
  );
  const id = `20250602T100000Z-${Math.random().toString(16).slice(2, 14).padEnd(12, "0")}`;
  await adapters.submissionQueue.send({
    id,
    receivedAt: new Date().toISOString(),
    envelope: { mailFrom: from, rcptTo: [to] },
    size: raw.byteLength,
    body: { inline: raw.toString("base64") },
    origin: {
      type: "smtp",
      receiveConnector: "Apps",
      clientIp: "127.0.0.1",
      clientHelo: "app",
      tls: false,
    },
  });
}

const got = (subject: string) =>
  sink.received.find((m) => m.raw.toString().includes(`\r\nSubject: ${subject}\r\n`));

test("new --aws stores the key in Secrets Manager only; a retried message and an NDR arrive signed and verify", async () => {
  const cli = await runCli(
    [
      "dkim-signing-config",
      "new",
      "--domain",
      "contoso.test",
      "--aws",
      "--record-table",
      "relay-records",
      "--secret-prefix",
      PREFIX,
      "--json",
    ],
    {
      home,
      env: {
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_REGION: "us-east-1",
        AWS_MAX_ATTEMPTS: "1",
        AWS_ENDPOINT_URL_DYNAMODB: await endpointOf(emu.dynamo),
        AWS_ENDPOINT_URL_SECRETS_MANAGER: await endpointOf(emu.secretsManager),
      },
    },
  );
  expect(cli.code, cli.stderr).toBe(0);
  const { config } = JSON.parse(cli.stdout) as {
    config: { selector: string; dnsRecords: PrintedDnsRecord[] };
  };
  const secretName = `${PREFIX}dkim/contoso.test/${config.selector}`;
  expect(emu.secrets.get(secretName)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  const stored = JSON.stringify(
    await adapters.recordStore.get("DkimSigningConfig", "contoso.test"),
  );
  expect(stored).not.toMatch(/PRIVATE KEY/);
  publish(dns, config.dnsRecords);
  await new Promise((r) => setTimeout(r, 1500)); // the functions' record cache (1 s here)

  await queue("app@contoso.test", "retry@fabrikam.test", "Greylisted invoice");
  await until("the retried delivery", () => got("Greylisted invoice") !== undefined);
  expect(deferNext).toBe(false);
  expect(await verifyDkim(got("Greylisted invoice")?.raw ?? Buffer.alloc(0), dns)).toEqual([
    expect.objectContaining({ domain: "contoso.test", selector: config.selector, result: "pass" }),
  ]);

  sink.script.rcpt = (address) =>
    address === "gone@fabrikam.test" ? "550 5.1.1 User unknown" : undefined;
  await queue("app@tailspin.test", "gone@fabrikam.test", "To nobody");
  await until("the NDR", () => sink.received.some((m) => m.rcptTo.includes("app@tailspin.test")));
  const ndr = sink.received.find((m) => m.rcptTo.includes("app@tailspin.test"));
  expect(await verifyDkim(ndr?.raw ?? Buffer.alloc(0), dns)).toEqual([
    expect.objectContaining({ domain: "contoso.test", result: "pass" }),
  ]);

  // A config whose secret does not exist: the message still leaves, unsigned, and is counted.
  const key = JSON.parse(stored) as { keys: Record<string, unknown>[] };
  await adapters.recordStore.put({
    kind: "DkimSigningConfig",
    domain: "broken.test",
    keys: [{ ...key.keys[0], secretName: "dkim/broken.test/missing" }],
  });
  await new Promise((r) => setTimeout(r, 1500));
  await queue("app@broken.test", "user@fabrikam.test", "Broken key");
  await until("the unsigned message", () => got("Broken key") !== undefined);
  expect(got("Broken key")?.raw.toString()).not.toMatch(/DKIM-Signature/i);
  await until("the metric", () => metricLines.some((l) => /"DkimSignFailed":1/.test(l)));
}, 90_000);
