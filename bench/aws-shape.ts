// The AWS shape for `npm run bench:aws`: emulators with the stack's queues, tables and bucket, the listener task, and route and deliver behind simulated event source mappings.
import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { deliverDepsFromEnv } from "#adapters/aws/deliver-deps.ts";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { awsAdaptersFromEnv, SQS_CLIENT_SETTINGS } from "#adapters/aws/from-env.ts";
import { meteredHandler, relayDepsFromEnv } from "#adapters/aws/function-deps.ts";
import { TRACKING_TABLE } from "#adapters/aws/table-design.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { makeRouteHandler } from "#functions/route/handler.ts";
import { createLogger, useCaseLog } from "#functions/shared/logger.ts";
import { type AwsEmulators, endpointOf, relayEnv } from "#test/support/aws-emulators.ts";
import type { BatchHandler } from "#test/support/esm-simulator.ts";
import { appsConnector, smartHostConnector } from "#test/support/relay-process.ts";
import { AwsMeter, invocationScope, type Waiting } from "./aws-meter.ts";

const ROOT = join(import.meta.dirname, "..");
const common = {
  region: "us-east-1",
  credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  maxAttempts: 1,
};

export interface Stage {
  env: Record<string, string>;
  submissionUrl: string;
  deliveryUrl: string;
}

/** What the stack creates, on the emulators; records for an anonymous relay connector and a smart host. */
export async function createStage(emu: AwsEmulators, smartHost: string): Promise<Stage> {
  const submission = await emu.createQueue({
    name: "submission",
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 60,
  });
  const delivery = await emu.createQueue({
    name: "delivery",
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 330,
  });
  await emu.createBucket("relay-bodies");
  await emu.createRecordTable("relay-records");
  await emu.createTrackingTable("relay-tracking");
  const env = relayEnv(
    { submission: submission.url, delivery: delivery.url },
    {
      [RELAY_ENV.mxDeliveryEnabled]: "false",
      [RELAY_ENV.bindPorts]: JSON.stringify({ "25": 0 }),
      [RELAY_ENV.metricsService]: "RelayBench",
    },
  );
  const adapters = awsAdaptersFromEnv(env, emu);
  for (const record of [
    { ...appsConnector(25), name: "Load", maxInboundConnectionPerSource: 100 },
    smartHostConnector(smartHost, "Sink"),
  ])
    await adapters.recordStore.put(record);
  return { env, submissionUrl: submission.url, deliveryUrl: delivery.url };
}

export interface ListenerTask {
  port: number;
  pid: number;
  /** Bytes written to stdout since start (CloudWatch Logs from Fargate). */
  logBytes(): number;
  report(): Promise<import("./aws-meter.ts").MeterReport>;
  stop(): Promise<void>;
}

export async function startListenerTask(
  emu: AwsEmulators,
  stage: Stage,
  nodeFlags: string[] = [],
): Promise<ListenerTask> {
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, "bench/aws-listener.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...stage.env,
      BENCH_SQS: await endpointOf(emu.sqs),
      BENCH_S3: await endpointOf(emu.s3),
      BENCH_DYNAMODB: await endpointOf(emu.dynamo),
    },
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  let logBytes = 0;
  let first = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`listener exited with ${code}`)));
    child.stdout?.on("data", (d: Buffer) => {
      if (first !== undefined && !first.includes("\n")) {
        first += d.toString();
        const line = first.split("\n")[0] ?? "";
        if (first.includes("\n")) {
          logBytes += Buffer.byteLength(first) - Buffer.byteLength(line) - 1;
          resolve(Number((JSON.parse(line) as { port: number }).port));
        }
        return;
      }
      logBytes += d.length;
    });
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    port,
    pid: child.pid ?? 0,
    logBytes: () => logBytes,
    report: () =>
      new Promise((resolve) => {
        child.once("message", (m) => resolve(m as never));
        child.send("report");
      }),
    async stop() {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface TimedHandler {
  handler: BatchHandler;
  /** Each invocation: wall ms, batch size, and the time and number of its waits on AWS calls. */
  invocations: Array<{
    ms: number;
    records: number;
    awaitedMs: number;
    waits: number;
    calls: number;
  }>;
}

/** Lambda bills the handler's wall time: measure each invocation as the platform would. */
function timed(handler: BatchHandler): TimedHandler {
  const invocations: TimedHandler["invocations"] = [];
  return {
    invocations,
    handler: async (event, context) => {
      const t0 = performance.now();
      const w: Waiting = { inFlight: 0, since: 0, awaitedMs: 0, waits: 0, calls: 0 };
      try {
        return await invocationScope.run(w, () => handler(event, context));
      } finally {
        invocations.push({
          ms: performance.now() - t0,
          records: event.Records.length,
          awaitedMs: w.awaitedMs,
          waits: w.waits,
          calls: w.calls,
        });
      }
    },
  };
}

/** SDK clients on the emulators with a meter of their own. */
export async function meteredClients(emu: AwsEmulators) {
  const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const { S3Client } = await import("@aws-sdk/client-s3");
  const { SQSClient } = await import("@aws-sdk/client-sqs");
  const { SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
  const meter = new AwsMeter();
  meter.indexes("relay-tracking", Object.values(TRACKING_TABLE.indexes));
  const clients = {
    sqs: new SQSClient({ ...common, ...SQS_CLIENT_SETTINGS, endpoint: await endpointOf(emu.sqs) }),
    s3: new S3Client({ ...common, endpoint: await endpointOf(emu.s3), forcePathStyle: true }),
    dynamo: new DynamoDBClient({ ...common, endpoint: await endpointOf(emu.dynamo) }),
    secretsManager: new SecretsManagerClient({
      ...common,
      endpoint: await endpointOf(emu.secretsManager),
    }),
  };
  meter.attach(clients.sqs, "sqs");
  meter.attach(clients.s3, "s3");
  meter.attach(clients.dynamo, "dynamodb");
  meter.attach(clients.secretsManager, "secretsmanager");
  return { meter, clients };
}

export interface Functions {
  route: TimedHandler;
  deliver: TimedHandler;
  routeMeter: AwsMeter;
  deliverMeter: AwsMeter;
  /** Bytes of JSON log and EMF lines each function wrote (CloudWatch Logs). */
  logBytes: { route: number; deliver: number };
}

/** route and deliver as their lambda.ts entries build them, each with its own metered clients and log sink. */
export async function buildFunctions(emu: AwsEmulators, stage: Stage): Promise<Functions> {
  const logBytes = { route: 0, deliver: 0 };
  const sink = (fn: "route" | "deliver") => ({
    write: (line: string) => {
      logBytes[fn] += Buffer.byteLength(line) + (line.endsWith("\n") ? 0 : 1);
    },
  });
  const r = await meteredClients(emu);
  const d = await meteredClients(emu);
  const routeLogger = createLogger("relay-route", sink("route"));
  const route = relayDepsFromEnv(useCaseLog(routeLogger), stage.env, r.clients, {
    writeMetrics: (l) => sink("route").write(l),
  });
  const deliverLogger = createLogger("relay-deliver", sink("deliver"));
  const deliver = deliverDepsFromEnv(useCaseLog(deliverLogger), stage.env, d.clients, {
    writeMetrics: (l) => sink("deliver").write(l),
  });
  return {
    route: timed(
      meteredHandler(makeRouteHandler({ ...route.deps, logger: routeLogger }), route.metrics),
    ),
    deliver: timed(
      meteredHandler(
        makeDeliverHandler({ ...deliver.deps, logger: deliverLogger }),
        deliver.metrics,
      ),
    ),
    routeMeter: r.meter,
    deliverMeter: d.meter,
    logBytes,
  };
}

/** A loopback TCP relay in front of the sink that counts bytes both ways: the SMTP traffic deliver sends to the Internet. */
export async function byteCounter(
  targetPort: number,
): Promise<{ port: number; bytes(): { out: number; in: number }; close(): Promise<void> }> {
  const bytes = { out: 0, in: 0 };
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    client.on("data", (d) => {
      bytes.out += d.length;
    });
    upstream.on("data", (d) => {
      bytes.in += d.length;
    });
    client.pipe(upstream).on("error", () => client.destroy());
    upstream.pipe(client).on("error", () => upstream.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    bytes: () => ({ ...bytes }),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
      }),
  };
}
