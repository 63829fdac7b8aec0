// `npm run bench:aws`: the path a deployment runs, on the AWS API emulators: listener accept rate and CPU, route and deliver durations, requests per message, and the cost per million.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parseConfig } from "#infra/config.ts";
import { startAwsEmulators } from "#test/support/aws-emulators.ts";
import { startEventSourceMapping } from "#test/support/esm-simulator.ts";
import { freePort } from "#test/support/relay-process.ts";
import { AwsMeter } from "./aws-meter.ts";
import { type AwsShapeResult, awsShapeFigures, awsShapeSummary } from "./aws-report.ts";
import { buildFunctions, byteCounter, createStage, startListenerTask } from "./aws-shape.ts";
import { cpuSeconds, cpuSplitSeconds } from "./cpu.ts";
import { runSmtpSource, startSmtpSink } from "./smtp-tools.ts";
import { type Shape, shapeArgs } from "./throughput.ts";

const { values: args } = parseArgs({
  options: {
    /** Messages per accept run (one per connection shape). */
    messages: { type: "string", default: "1000" },
    /** The cost model's message: 50 KB, one recipient. */
    size: { type: "string", default: "51200" },
    /** Share of messages above the claim-check threshold (stored in S3), as in docs/aws.md. */
    "large-share": { type: "string", default: "0.05" },
    "large-size": { type: "string", default: "262144" },
    sessions: { type: "string", default: "10" },
    out: { type: "string" },
    /** Profile the listener process (--cpu-prof into this directory; written when it drains). */
    "cpu-prof": { type: "string" },
    /** Measure the listener's accept runs only (no route, deliver or cost): for profiling. */
    "listener-only": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const N = Number(args.messages);
const SIZE = Number(args.size);
const LARGE = Math.round(N * 2 * Number(args["large-share"]));
const LARGE_SIZE = Number(args["large-size"]);
const SESSIONS = Number(args.sessions);
const FROM = "app@contoso.test";
const TO = "rcpt@fabrikam.test";

const log = (line: string) =>
  process.stderr.write(`[bench:aws ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type ListenerOnly = {
  listenerOnly: { accept: AwsShapeResult["listener"]["accept"]; sqsSends: number };
};

async function main(): Promise<AwsShapeResult | ListenerOnly> {
  const config = parseConfig({});
  const emu = await startAwsEmulators();
  const sink = await startSmtpSink(await freePort());
  const wire = await byteCounter(sink.port);
  const stage = await createStage(emu, `127.0.0.1:${wire.port}`);
  const profDir = args["cpu-prof"];
  const listener = await startListenerTask(
    emu,
    stage,
    profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [],
  );
  log(`listener pid ${listener.pid} :${listener.port}, sink :${sink.port}`);
  const send = (shape: Shape, messages: number, size: number) =>
    runSmtpSource(listener.port, shapeArgs(shape, SESSIONS), {
      messages,
      size,
      from: FROM,
      to: TO,
      timeoutMs: 600_000,
    });
  try {
    // Warm-up (JIT, SDK clients' connections, the record cache), routed and delivered later with the rest.
    await send("newconn", 100, SIZE);
    const accept = {} as AwsShapeResult["listener"]["accept"];
    for (const shape of ["newconn", "reuse"] as const) {
      const cpu0 = cpuSeconds(listener.pid);
      const split0 = cpuSplitSeconds(listener.pid);
      const run = await send(shape, N, SIZE);
      const cpuMs = (cpuSeconds(listener.pid) - cpu0) * 1000;
      const systemMs = (cpuSplitSeconds(listener.pid).system - split0.system) * 1000;
      if (run.code !== 0) throw new Error(`smtp-source ${shape} failed: ${run.stderr}`);
      accept[shape] = {
        msgsPerSec: (N / run.ms) * 1000,
        cpuMsPerMsg: cpuMs / N,
        systemMsPerMsg: systemMs / N,
      };
      log(
        `accept ${shape}: ${accept[shape].msgsPerSec.toFixed(0)} msgs/s, ${accept[shape].cpuMsPerMsg.toFixed(2)} ms CPU per message (${(systemMs / N).toFixed(2)} ms of it system)`,
      );
    }
    if (args["listener-only"]) {
      const calls = (await listener.report()).calls;
      const sends =
        (calls["sqs:SendMessage"]?.calls ?? 0) + (calls["sqs:SendMessageBatch"]?.calls ?? 0);
      return { listenerOnly: { accept, sqsSends: sends } };
    }
    if (LARGE > 0) {
      const run = await send("newconn", LARGE, LARGE_SIZE);
      if (run.code !== 0) throw new Error(`smtp-source (large) failed: ${run.stderr}`);
    }
    const total = 100 + 2 * N + LARGE;
    const listenerReport = await listener.report();

    // Route and deliver drain the submission queue through simulated event source mappings.
    const fns = await buildFunctions(emu, stage);
    // The simulator polls with the emulators' own client: its receives and batch deletes are billed too.
    const pollerMeter = new AwsMeter();
    pollerMeter.attach(emu.sqs, "sqs");
    const started = performance.now();
    const mappings = [
      await startEventSourceMapping({
        name: "route",
        client: emu.sqs,
        queueUrl: stage.submissionUrl,
        handler: fns.route.handler,
        batchSize: config.route.batchSize,
        maxConcurrency: 4,
        functionTimeoutSeconds: config.route.timeoutSeconds,
      }),
      await startEventSourceMapping({
        name: "deliver",
        client: emu.sqs,
        queueUrl: stage.deliveryUrl,
        handler: fns.deliver.handler,
        batchSize: config.deliver.batchSize,
        maxConcurrency: 8,
        functionTimeoutSeconds: config.deliver.timeoutSeconds,
      }),
    ];
    const deadline = Date.now() + 900_000;
    while (sink.count() < total && Date.now() < deadline) await sleep(200);
    const drainSeconds = (performance.now() - started) / 1000;
    // Let the last deletes land (a minute at most), then stop polling.
    const settled = Math.min(deadline, Date.now() + 60_000);
    while (
      ((await emu.queueDepth(stage.submissionUrl)) > 0 ||
        (await emu.queueDepth(stage.deliveryUrl)) > 0) &&
      Date.now() < settled
    )
      await sleep(200);
    await Promise.all(mappings.map((m) => m.stop()));
    const pollers = pollerMeter.report();
    // More than accepted: an SMTP transaction the sink completed but deliver saw time out (RFC 1047) was sent again.
    log(`routed and delivered ${sink.count()} of ${total} in ${drainSeconds.toFixed(1)} s`);
    if (sink.count() < total) throw new Error(`only ${sink.count()} of ${total} delivered`);
    return awsShapeFigures({
      params: {
        messages: total,
        sizeBytes: SIZE,
        largeMessages: LARGE,
        largeSizeBytes: LARGE_SIZE,
        sessions: SESSIONS,
        deliveredAtSink: sink.count(),
      },
      config,
      accept,
      listener: listenerReport,
      listenerLogBytes: listener.logBytes(),
      route: { invocations: fns.route.invocations, meter: fns.routeMeter.report() },
      deliver: { invocations: fns.deliver.invocations, meter: fns.deliverMeter.report() },
      pollers,
      functionLogBytes: fns.logBytes,
      smtpBytes: wire.bytes(),
      drainSeconds,
    });
  } finally {
    await listener.stop();
    await wire.close();
    await sink.stop();
    await emu.stop();
  }
}

try {
  const result = await main();
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (args.out) await writeFile(args.out, text);
  process.stdout.write(
    args.json || args.out || "listenerOnly" in result
      ? args.out
        ? ""
        : text
      : `${awsShapeSummary(result)}\n`,
  );
} catch (error) {
  log(`failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
}
