// `npm run bench:soak`: local mode under a steady load for a long time; RSS and live heap sampled to see whether memory is bounded.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "#test/support/relay-process.ts";
import { startRelayPeer, startScriptFlags } from "./relay-peer.ts";
import { runSmtpSource, startSmtpSink } from "./smtp-tools.ts";
import { type MemorySample, type SoakResult, soakResult, soakSummary } from "./soak-report.ts";
import { round } from "./stats.ts";
import { shapeArgs } from "./throughput.ts";

const ROOT = join(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    /** Messages per second offered, in chunks of `chunk` seconds. */
    rate: { type: "string", default: "100" },
    size: { type: "string", default: "10240" },
    sessions: { type: "string", default: "5" },
    "sample-seconds": { type: "string", default: "15" },
    /** The stated bound: RSS never above this, and live heap growth in the second half below the next. */
    "rss-bound-mib": { type: "string", default: "400" },
    "heap-growth-bound-mib": { type: "string", default: "1" },
    /** Overrides the start script's V8 semi-space cap in every thread (MiB), to compare settings. */
    "semi-space-mib": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const MINUTES = Number(args.minutes);
const RATE = Number(args.rate);
const SIZE = Number(args.size);
const SESSIONS = Number(args.sessions);
const SAMPLE_S = Number(args["sample-seconds"]);
const CHUNK_S = 5;
const MiB = 2 ** 20;

const log = (line: string) =>
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : Number.NaN;
}

interface ProbeLine {
  t: number;
  thread: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** The newest probe line of each thread in the samples file. */
async function latestHeaps(file: string): Promise<Map<number, ProbeLine>> {
  const text = await readFile(file, "utf8").catch(() => "");
  const last = new Map<number, ProbeLine>();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const p = JSON.parse(line) as ProbeLine;
    last.set(p.thread, p);
  }
  return last;
}

async function main(): Promise<SoakResult> {
  const work = await mkdtemp(join(tmpdir(), "relay-soak-"));
  const samplesFile = join(work, "heap.jsonl");
  const [sinkPort, relayPort] = [await freePort(), await freePort()];
  const sink = await startSmtpSink(sinkPort);
  // Read by bench/soak-probe.ts inside the relay (the child inherits this environment).
  process.env.RELAY_SOAK_SAMPLES = samplesFile;
  process.env.RELAY_SOAK_EVERY_MS = String(Math.max(1000, SAMPLE_S * 1000 - 1000));
  const relay = await startRelayPeer({
    home: join(work, "relay"),
    port: relayPort,
    smartHost: `127.0.0.1:${sinkPort}`,
    nodeFlags: [
      "--expose-gc",
      "--import",
      join(ROOT, "bench", "soak-probe.ts"),
      ...(args["semi-space-mib"] ? [`--max-semi-space-size=${args["semi-space-mib"]}`] : []),
    ],
  });
  log(`relay pid ${relay.pid} :${relayPort}, sink :${sinkPort}, work ${work}`);
  const started = new Date();
  const t0 = Date.now();
  const end = t0 + MINUTES * 60_000;
  const samples: MemorySample[] = [];
  let sent = 0;
  let failures = 0;

  const takeSample = async () => {
    const heaps = await latestHeaps(samplesFile);
    let listener = Number.NaN;
    let pipeline = 0;
    let external = 0;
    let heapTotal = 0;
    for (const [thread, p] of heaps) {
      heapTotal += p.heapTotal / MiB;
      if (thread === 0) listener = p.heapUsed / MiB;
      else pipeline += p.heapUsed / MiB;
      external += p.external / MiB;
    }
    const s: MemorySample = {
      s: Math.round((Date.now() - t0) / 1000),
      delivered: sink.count(),
      queued: await relay.queued(),
      rssMiB: round(await rssOf(relay.pid), 1),
      heapMiB: { listener: round(listener, 1), pipeline: round(pipeline, 1) },
      heapTotalMiB: round(heapTotal, 1),
      externalMiB: round(external, 1),
    };
    samples.push(s);
    log(
      `${(s.s / 60).toFixed(1)} min: sent ${sent} delivered ${s.delivered} queued ${s.queued} RSS ${s.rssMiB} MiB heap ${s.heapMiB.listener} + ${s.heapMiB.pipeline} MiB (reserved ${s.heapTotalMiB}, external ${s.externalMiB})`,
    );
  };

  const sampler = (async () => {
    while (Date.now() < end) {
      await sleep(SAMPLE_S * 1000);
      await takeSample();
    }
  })();

  // Steady offered load: RATE × CHUNK_S messages every CHUNK_S seconds, alternating one connection
  // per message and connection reuse. A chunk that takes longer than CHUNK_S delays the next.
  let chunk = 0;
  while (Date.now() < end) {
    const due = t0 + chunk * CHUNK_S * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    const n = RATE * CHUNK_S;
    const run = await runSmtpSource(
      relayPort,
      shapeArgs(chunk % 2 ? "reuse" : "newconn", SESSIONS),
      {
        messages: n,
        size: SIZE,
        from: "sender@example.test",
        to: "rcpt@example.test",
        timeoutMs: 120_000,
      },
    );
    if (run.code === 0) sent += n;
    else if (failures++ < 5) log(`smtp-source exited ${run.code}: ${run.stderr.slice(-300)}`);
    chunk++;
  }
  await sampler;
  // Let the relay drain, then one last sample.
  const drainEnd = Date.now() + 120_000;
  while (Date.now() < drainEnd && (await relay.queued()) > 0) await sleep(500);
  await sleep(SAMPLE_S * 1000);
  await takeSample();
  await relay.stop();
  await sink.stop();
  const seconds = (Date.now() - t0) / 1000;
  const result = soakResult(
    {
      bench: "connector-relay soak",
      startedAt: started.toISOString(),
      params: {
        minutes: MINUTES,
        rate: RATE,
        size: SIZE,
        sessions: SESSIONS,
        sampleSeconds: SAMPLE_S,
        nodeFlags: [
          ...startScriptFlags(),
          ...(args["semi-space-mib"] ? [`--max-semi-space-size=${args["semi-space-mib"]}`] : []),
        ],
      },
      sent,
      delivered: sink.count(),
      achievedRate: round(sent / Math.min(seconds, MINUTES * 60), 1),
      samples,
    },
    {
      rssMiB: Number(args["rss-bound-mib"]),
      heapGrowthPer10kMiB: Number(args["heap-growth-bound-mib"]),
    },
  );
  await rm(work, { recursive: true, force: true });
  return result;
}

try {
  const result = await main();
  const dir = join(ROOT, "bench", "results");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `soak-${result.startedAt.replace(/[:.]/g, "-").slice(0, 19)}.json`);
  const text = `${JSON.stringify(result, null, 2)}\n`;
  await writeFile(file, text);
  process.stdout.write(
    args.json ? text : `${soakSummary(result)}\n  results: ${relative(ROOT, file)}\n`,
  );
  if (!result.bound.met) process.exitCode = 2;
} catch (error) {
  log(`failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
}
