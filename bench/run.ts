// `npm run bench`: connector-relay against Postfix on this machine, same load, same sink, same run; JSON and an SVG chart.
import { execFile, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, release, tmpdir, totalmem } from "node:os";
import { join, relative } from "node:path";
import { parseArgs, promisify } from "node:util";
import { freePort } from "#test/support/relay-process.ts";
import { type AwsShapeResult, awsShapeSummary } from "./aws-report.ts";
import { measureBundle } from "./bundles.ts";
import { renderChart } from "./chart.ts";
import { cpuSeconds } from "./cpu.ts";
import type { HandlerFigures } from "./handlers.ts";
import {
  type LatencyIntervals,
  type LatencyOnlyResult,
  type LatencyRep,
  type LatencyResult,
  type LatencyRows,
  latencyIntervals,
  latencySummary,
  loadAverage,
  measureLatency,
} from "./latency.ts";
import { type PostfixPeer, startPostfixPeer } from "./postfix-peer.ts";
import { type RelayPeer, startRelayPeer } from "./relay-peer.ts";
import { type BenchResult, type PeerThroughput, ratiosOf, summary, targetsOf } from "./report.ts";
import { type SmtpSink, startSmtpSink } from "./smtp-tools.ts";
import { spread } from "./stats.ts";
import { type Peer, type RunResult, type Shape, throughputRun, waitIdle } from "./throughput.ts";

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");
const FROM = "sender@example.test";
const TO = "rcpt@example.test";

const { values: args } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    messages: { type: "string", default: "2000" },
    reps: { type: "string", default: "3" },
    size: { type: "string", default: "10240" },
    sessions: { type: "string", default: "10" },
    "latency-messages": { type: "string", default: "1000" },
    "handler-messages": { type: "string", default: "2000" },
    /** Also write bench/latest.json and bench/latest.svg (the committed example). */
    latest: { type: "boolean", default: false },
    /** Run the relay under --cpu-prof; the profile lands next to the results. */
    profile: { type: "boolean", default: false },
    /**
     * `aws`: only the AWS shape (bench/aws.ts), no Postfix needed. `latency`: only the dot→250
     * latency of Postfix and the relay (`--reps` times, interleaved), with the load average of each.
     */
    only: { type: "string" },
    /** Messages per accept run of the AWS shape. */
    "aws-messages": { type: "string", default: "1000" },
  },
});
const N = Number(args.messages);
const REPS = Number(args.reps);
const SIZE = Number(args.size);
const SESSIONS = Number(args.sessions);
const NL = Number(args["latency-messages"]);

const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
const resultsDir = join(ROOT, "bench", "results");

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch((e) => log(`cleanup: ${e}`));
}
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => {
    log(`${sig}: stopping peers`);
    void cleanup().then(() => process.exit(130));
  });

async function preflight(): Promise<void> {
  for (const tool of ["smtp-source", "smtp-sink", "postfix", "postconf"]) {
    await exec("sh", ["-c", `command -v ${tool}`]).catch(() => {
      throw new Error(
        `${tool} not found: install Postfix (sh test/peers.sh does, as npm test's pretest)`,
      );
    });
  }
  if (process.getuid?.() !== 0) throw new Error("the Postfix peer needs root; run as root");
}

async function machine(spoolDir: string): Promise<Record<string, string | number>> {
  const fs = await exec("findmnt", ["-n", "-o", "FSTYPE,SOURCE", "-T", spoolDir]).catch(() => ({
    stdout: "?",
  }));
  const load = await loadAverage();
  return {
    cpus: availableParallelism(),
    cpu: cpus()[0]?.model ?? "?",
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    spoolFs: fs.stdout.trim(),
    loadavgAtStart: load,
  };
}

function peerThroughput(runs: RunResult[], withCpu: boolean): PeerThroughput {
  const ok = runs.filter((r) => r.ok);
  return {
    accept: spread(ok.map((r) => r.accept)),
    e2e: spread(ok.map((r) => r.e2e)),
    ...(withCpu
      ? {
          cpuMsPerMsg: spread(
            ok.map((r) => r.cpuMsPerMsg ?? Number.NaN),
            3,
          ),
        }
      : {}),
    failed: runs.filter((r) => !r.ok).map((r) => r.problem ?? "failed"),
  };
}

async function runHandlers(sinkPort: number, out: string): Promise<HandlerFigures> {
  const child = spawn(
    process.execPath,
    [
      "bench/handlers.ts",
      "--sink-port",
      String(sinkPort),
      "--messages",
      args["handler-messages"],
      "--size",
      String(SIZE),
      "--out",
      out,
    ],
    { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] },
  );
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`bench/handlers.ts exited with ${code}`);
  return JSON.parse(await readFile(out, "utf8")) as HandlerFigures;
}

/** The AWS shape in a process of its own (its emulators and handlers must not share the relay's CPU figures). */
async function runAwsShape(out: string): Promise<AwsShapeResult> {
  const child = spawn(
    process.execPath,
    ["bench/aws.ts", "--messages", args["aws-messages"], "--out", out],
    { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] },
  );
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`bench/aws.ts exited with ${code}`);
  return JSON.parse(await readFile(out, "utf8")) as AwsShapeResult;
}

type Peers = Record<"sink" | "postfix" | "relay", Peer>;

/** `--reps` runs of each shape, interleaved, so a change in the machine's load hits every peer alike. */
async function throughputRows(
  peers: Peers,
  sink: SmtpSink,
  opts: Parameters<typeof throughputRun>[3],
): Promise<{ throughput: BenchResult["throughput"]; noise: BenchResult["noise"] }> {
  const runs = new Map<string, RunResult[]>();
  const noise = { machineBusyPct: [] as number[], otherCpuPct: [] as number[] };
  for (let rep = 1; rep <= REPS; rep++) {
    for (const shape of ["newconn", "reuse"] as const) {
      for (const name of ["sink", "postfix", "relay"] as const) {
        const r = await throughputRun(peers[name], sink, shape, opts);
        const key = `${shape}.${name}`;
        runs.set(key, [...(runs.get(key) ?? []), r]);
        noise.machineBusyPct.push(r.machineBusyPct);
        noise.otherCpuPct.push(r.otherCpuPct);
        log(
          `run ${rep}/${REPS} ${key.padEnd(15)} accept ${r.accept.toFixed(0).padStart(5)} e2e ${r.e2e.toFixed(0).padStart(5)} msgs/s` +
            `${r.cpuMsPerMsg !== undefined ? ` cpu ${r.cpuMsPerMsg.toFixed(2)} ms/msg` : ""} busy ${r.machineBusyPct}% other ${r.otherCpuPct}%${r.ok ? "" : ` FAILED: ${r.problem}`}`,
        );
      }
    }
  }
  const throughput = Object.fromEntries(
    (["newconn", "reuse"] as Shape[]).map((shape) => [
      shape,
      {
        sink: peerThroughput(runs.get(`${shape}.sink`) ?? [], false),
        postfix: peerThroughput(runs.get(`${shape}.postfix`) ?? [], true),
        relay: peerThroughput(runs.get(`${shape}.relay`) ?? [], true),
      },
    ]),
  ) as BenchResult["throughput"];
  return { throughput, noise };
}

/**
 * dot→250 at 1 and 10 sessions, one connection per message, each peer once it is idle; with the
 * 95 % intervals of the Postfix ÷ relay ratios from the two peers' samples.
 */
async function latencyRows(
  peers: Peers,
): Promise<{ latency: LatencyRows; intervals: LatencyIntervals }> {
  const latency = {} as LatencyRows;
  let intervals: LatencyIntervals = {};
  for (const sessions of [1, 10] as const) {
    const row = {} as Record<"sink" | "postfix" | "relay", LatencyResult>;
    const dots = {} as Record<"sink" | "postfix" | "relay", number[]>;
    for (const name of ["sink", "postfix", "relay"] as const) {
      await waitIdle(peers[name]);
      ({ result: row[name], dots: dots[name] } = await measureLatency({
        port: peers[name].port,
        messages: NL,
        sessions,
        mode: "newconn",
        size: SIZE,
      }));
      log(
        `latency ${sessions} session(s) ${name}: dot→250 p50 ${row[name].dot.p50} p99 ${row[name].dot.p99} ms${row[name].errors.length ? ` errors: ${row[name].errors.join("; ")}` : ""}`,
      );
    }
    const s = sessions === 1 ? "s1" : "s10";
    latency[s] = row;
    intervals = { ...intervals, ...latencyIntervals(s, dots.postfix, dots.relay) };
  }
  return { latency, intervals };
}

async function main(): Promise<BenchResult | LatencyOnlyResult> {
  await preflight();
  const started = new Date();
  const work = await mkdtemp(join(tmpdir(), "relay-bench-"));
  // Postfix's daemons run as the postfix user and must reach their queue below it.
  await chmod(work, 0o755);
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  await mkdir(resultsDir, { recursive: true });
  const [sinkPort, postfixPort, relayPort] = [await freePort(), await freePort(), await freePort()];

  const sink: SmtpSink = await startSmtpSink(sinkPort);
  cleanups.push(() => sink.stop());
  const postfix: PostfixPeer = await startPostfixPeer({
    dir: join(work, "postfix"),
    port: postfixPort,
    relayHost: `127.0.0.1:${sinkPort}`,
  });
  cleanups.push(() => postfix.stop());
  const relay: RelayPeer = await startRelayPeer({
    home: join(work, "relay"),
    port: relayPort,
    smartHost: `127.0.0.1:${sinkPort}`,
    ...(args.profile
      ? { nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${join(resultsDir, `${stamp}-profile`)}`] }
      : {}),
  });
  cleanups.push(() => relay.stop());
  log(
    `sink :${sinkPort}, Postfix ${postfix.version} :${postfixPort}, relay pid ${relay.pid} :${relayPort}, work ${work}`,
  );

  const peers: Peers = {
    sink: { name: "sink", port: sinkPort, queued: () => 0 },
    postfix: {
      name: "postfix",
      port: postfixPort,
      queued: () => postfix.queued(),
      cpu: async () => cpuSeconds(await postfix.masterPid(), true),
    },
    relay: {
      name: "relay",
      port: relayPort,
      queued: () => relay.queued(),
      cpu: async () => cpuSeconds(relay.pid),
    },
  };
  const opts = { messages: N, size: SIZE, sessions: SESSIONS, from: FROM, to: TO };

  // Smoke test and warm-up (JIT, Postfix's daemons, connection caches); not counted.
  for (const name of ["postfix", "relay"] as const) {
    const warm = await throughputRun(peers[name], sink, "newconn", {
      ...opts,
      messages: Math.min(300, N),
    });
    if (!warm.ok) throw new Error(`${name} warm-up failed: ${warm.problem}`);
    log(`${name} warm-up ok: ${warm.accept.toFixed(0)} msgs/s accept`);
  }

  if (args.only === "latency") {
    const reps: LatencyRep[] = [];
    for (let rep = 1; rep <= REPS; rep++) {
      const loadavg = await loadAverage();
      log(`latency run ${rep}/${REPS}, load average ${loadavg}`);
      reps.push({ loadavg, ...(await latencyRows(peers)) });
    }
    await relay.stop();
    await postfix.stop();
    return {
      bench: "connector-relay latency",
      startedAt: started.toISOString(),
      machine: { ...(await machine(work)), postfix: postfix.version },
      params: { latencyMessages: NL, sizeBytes: SIZE, reps: REPS },
      latencyOnly: reps,
    };
  }
  const { throughput, noise } = await throughputRows(peers, sink, opts);
  const { latency, intervals } = await latencyRows(peers);
  await waitIdle(peers.relay);
  await waitIdle(peers.postfix);
  await relay.stop();
  await postfix.stop();

  log("handlers: route and deliver CPU per message");
  const handlers = await runHandlers(sinkPort, join(work, "handlers.json"));
  log("bundles: esbuild and cold import");
  const bundleDir = join(resultsDir, `${stamp}-bundles`);
  const bundles = {
    route: await measureBundle("route", bundleDir),
    deliver: await measureBundle("deliver", bundleDir),
  };
  await rm(bundleDir, { recursive: true, force: true });
  log("AWS shape: listener, route and deliver on the emulators");
  const aws = await runAwsShape(join(work, "aws.json"));

  const figures = {
    bench: "connector-relay" as const,
    startedAt: started.toISOString(),
    durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    machine: { ...(await machine(work)), postfix: postfix.version },
    params: {
      messages: N,
      sizeBytes: SIZE,
      sessions: SESSIONS,
      reps: REPS,
      latencyMessages: NL,
      fsync: true as const,
    },
    throughput,
    noise,
    latency,
    handlers,
    bundles,
    aws,
  };
  const ratios = ratiosOf(figures);
  return { ...figures, ratios, ratioIntervals: intervals, targets: targetsOf(figures, ratios) };
}

if (args.only === "aws") {
  // The AWS shape alone: its own JSON and summary (bench/aws.ts), without Postfix or root.
  const out = join(resultsDir, `${stamp}-aws.json`);
  await mkdir(resultsDir, { recursive: true });
  try {
    const aws = await runAwsShape(out);
    process.stdout.write(
      args.json
        ? `${JSON.stringify(aws, null, 2)}\n`
        : `${awsShapeSummary(aws)}\n  results: ${out}\n`,
    );
  } catch (error) {
    log(`failed: ${(error as Error).stack ?? error}`);
    process.exitCode = 1;
  }
} else {
  await runAll();
}

async function runAll(): Promise<void> {
  try {
    const result = await main();
    if ("latencyOnly" in result) {
      const json = join(resultsDir, `${stamp}-latency.json`);
      const text = `${JSON.stringify(result, null, 2)}\n`;
      await writeFile(json, text);
      process.stdout.write(args.json ? text : `${latencySummary(result)}\n  results: ${json}\n`);
      return;
    }
    const json = join(resultsDir, `${stamp}.json`);
    const svg = join(resultsDir, `${stamp}.svg`);
    result.files = { json: relative(ROOT, json), svg: relative(ROOT, svg) };
    const text = `${JSON.stringify(result, null, 2)}\n`;
    await writeFile(json, text);
    await writeFile(svg, renderChart(result));
    if (args.latest) {
      const latest = join(ROOT, "bench", "latest.json");
      await writeFile(latest, text);
      await writeFile(join(ROOT, "bench", "latest.svg"), renderChart(result));
      // Committed, so in the project's format (npm test lints every JSON file).
      await exec(join(ROOT, "node_modules", ".bin", "biome"), ["format", "--write", latest], {
        cwd: ROOT,
      });
    }
    process.stdout.write(
      args.json ? text : `${summary(result)}\n  results: ${json}\n  chart:   ${svg}\n`,
    );
  } catch (error) {
    log(`failed: ${(error as Error).stack ?? error}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}
