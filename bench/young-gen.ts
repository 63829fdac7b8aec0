// `npm run bench:young-gen`: the price of capping V8's young generation, as CPU per relayed message and throughput, against the RSS it saves.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "#test/support/relay-process.ts";
import { cpuSeconds } from "./cpu.ts";
import { startRelayPeer, startScriptFlags } from "./relay-peer.ts";
import { startSmtpSink } from "./smtp-tools.ts";
import { median, round } from "./stats.ts";
import { type RunResult, type Shape, throughputRun } from "./throughput.ts";

const { values: args } = parseArgs({
  options: {
    /** Semi-space caps to compare (MiB, --max-semi-space-size in every thread); 0 is V8's own sizing of the main thread. */
    "semi-space-mib": { type: "string", default: "4,8,16" },
    messages: { type: "string", default: "2000" },
    reps: { type: "string", default: "2" },
    size: { type: "string", default: "10240" },
    sessions: { type: "string", default: "10" },
  },
});
const CAPS = args["semi-space-mib"].split(",").map(Number);
const REPS = Number(args.reps);
const opts = {
  messages: Number(args.messages),
  size: Number(args.size),
  sessions: Number(args.sessions),
  from: "sender@example.test",
  to: "rcpt@example.test",
};
const log = (line: string) =>
  process.stderr.write(`[bench:young-gen ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

const results = [];
const sink = await startSmtpSink(await freePort());
try {
  for (const cap of CAPS) {
    const work = await mkdtemp(join(tmpdir(), "relay-young-gen-"));
    const port = await freePort();
    const relay = await startRelayPeer({
      home: join(work, "relay"),
      port,
      smartHost: `127.0.0.1:${sink.port}`,
      nodeFlags: [`--max-semi-space-size=${cap}`],
    });
    const peer = {
      name: "relay" as const,
      port,
      queued: () => relay.queued(),
      cpu: async () => cpuSeconds(relay.pid),
    };
    await throughputRun(peer, sink, "newconn", { ...opts, messages: 300 }); // warm-up
    const runs: Record<Shape, RunResult[]> = { newconn: [], reuse: [] };
    for (let rep = 0; rep < REPS; rep++)
      for (const shape of ["newconn", "reuse"] as const) {
        const r = await throughputRun(peer, sink, shape, opts);
        runs[shape].push(r);
        log(
          `semi-space ${cap} MiB ${shape}: accept ${r.accept.toFixed(0)} e2e ${r.e2e.toFixed(0)} msgs/s, cpu ${r.cpuMsPerMsg?.toFixed(2)} ms/msg, busy ${r.machineBusyPct}% other ${r.otherCpuPct}%`,
        );
      }
    const rss = round(await rssMiB(relay.pid), 1);
    await relay.stop();
    await rm(work, { recursive: true, force: true });
    const all = [...runs.newconn, ...runs.reuse];
    results.push({
      semiSpaceMiB: cap,
      cpuMsPerMsg: round(median(all.map((r) => r.cpuMsPerMsg ?? Number.NaN)), 2),
      e2e: {
        newconn: round(median(runs.newconn.map((r) => r.e2e)), 0),
        reuse: round(median(runs.reuse.map((r) => r.e2e)), 0),
      },
      rssAfterMiB: rss,
      otherCpuPct: round(median(all.map((r) => r.otherCpuPct)), 0),
    });
  }
} finally {
  await sink.stop();
}
process.stdout.write(
  `${JSON.stringify({ bench: "connector-relay young generation", startScript: startScriptFlags(), params: { ...opts, reps: REPS }, results }, null, 2)}\n`,
);
