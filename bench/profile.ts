// `npm run bench:profile`: one load shape against the relay under --cpu-prof, then where each of its threads spent the time, per message.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "#test/support/relay-process.ts";
import { cpuSeconds } from "./cpu.ts";
import { startRelayPeer } from "./relay-peer.ts";
import { startSmtpSink } from "./smtp-tools.ts";
import { type Shape, throughputRun } from "./throughput.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Innermost frame that matches decides: a socket write under smtp-server is the listener's. */
const CATEGORIES: Array<[string, RegExp]> = [
  ["tracking (SQLite)", /adapters\/local\/tracking-store/],
  ["queues and body files", /adapters\/local\/(queue|durable-file|message-store|spool-import)/],
  ["logging", /listener\/logger|local\/log-files|powertools\/logger/],
  ["SMTP client (nodemailer)", /nodemailer|adapters\/smtp\//],
  ["listener (smtp-server)", /smtp-server|\/listener\//],
  ["route use case", /core\/usecases\/route|functions\/route/],
  ["deliver use case", /core\/usecases\/|functions\/deliver/],
  ["core (records, policy, ids)", /\/core\//],
  ["batch handler (middy, Powertools)", /@middy|powertools|functions\/shared/],
  ["local runner (worker)", /local\/worker/],
];

export function categorize(p: CpuProfile): { totals: Map<string, number>; totalMs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categoryOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = categoryOf.get(id);
    if (known) return known;
    const n = byId.get(id)!;
    const f = n.callFrame;
    let c: string | undefined;
    if (f.functionName === "(garbage collector)") c = "garbage collection";
    else if (f.functionName === "(idle)") c = "idle";
    else if (f.functionName === "(program)") c = "(program: native, unattributed)";
    else c = CATEGORIES.find(([, re]) => re.test(f.url))?.[0];
    if (!c) {
      const up = parent.get(id);
      c = up === undefined ? "node internals (startup, timers)" : resolve(up);
    }
    categoryOf.set(id, c);
    return c;
  };
  const totals = new Map<string, number>();
  let totalMs = 0;
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const c = resolve(id);
    totals.set(c, (totals.get(c) ?? 0) + ms);
  });
  return { totals, totalMs };
}

/** `strace -c -f` on a running process; `stop` gives system calls per message, the most frequent first. */
async function attachStrace(pid: number, out: string) {
  const child = spawn("strace", ["-c", "-f", "-p", String(pid), "-o", out], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 1000));
  return {
    async stop(messages: number): Promise<Record<string, number>> {
      child.kill("SIGINT");
      await new Promise((r) => child.once("exit", r));
      const rows: Array<[string, number]> = [];
      for (const line of (await readFile(out, "utf8")).split("\n")) {
        const f = line.trim().split(/\s+/);
        // % time, seconds, usecs/call, calls, [errors], syscall
        if (f.length >= 5 && /^\d/.test(f[0] ?? "") && f.at(-1) !== "total")
          rows.push([f.at(-1)!, Math.round((Number(f[3]) / messages) * 10) / 10]);
      }
      const total = rows.reduce((a, [, n]) => a + n, 0);
      return Object.fromEntries([
        ["total", Math.round(total * 10) / 10],
        ...rows.sort((a, b) => b[1] - a[1]).slice(0, 15),
      ]);
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      shape: { type: "string", default: "newconn" },
      messages: { type: "string", default: "2000" },
      sessions: { type: "string", default: "10" },
      size: { type: "string", default: "10240" },
      /** Also count the relay's system calls per message (strace -c -f; slows the run, counts stay exact). */
      strace: { type: "boolean", default: false },
    },
  });
  const messages = Number(values.messages);
  const work = await mkdtemp(join(tmpdir(), "relay-profile-"));
  const profDir = join(work, "prof");
  const sink = await startSmtpSink(await freePort());
  const relay = await startRelayPeer({
    home: join(work, "relay"),
    port: await freePort(),
    smartHost: `127.0.0.1:${sink.port}`,
    // The profiler's signals would show up in the system call counts: one or the other.
    ...(values.strace ? {} : { nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${profDir}`] }),
  });
  try {
    const peer = {
      name: "relay" as const,
      port: relay.port,
      queued: () => relay.queued(),
      cpu: async () => cpuSeconds(relay.pid),
    };
    const load = {
      size: Number(values.size),
      sessions: Number(values.sessions),
      from: "sender@example.test",
      to: "rcpt@example.test",
    };
    // Warm-up outside the counted run, so start-up does not count per message.
    await throughputRun(peer, sink, "newconn", { ...load, messages: 200 });
    const trace = values.strace
      ? await attachStrace(relay.pid, join(work, "strace.txt"))
      : undefined;
    const run = await throughputRun(peer, sink, values.shape as Shape, {
      ...load,
      messages,
    });
    const syscalls = trace ? await trace.stop(messages) : undefined;
    await relay.stop();
    const report: Record<string, unknown> = {
      shape: values.shape,
      messages,
      acceptPerSecond: Math.round(run.accept),
      e2ePerSecond: Math.round(run.e2e),
      processCpuMsPerMsg: run.cpuMsPerMsg,
    };
    if (syscalls) report.syscallsPerMessage = syscalls;
    else {
      // One profile per thread, CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile: the listener's
      // main thread (0, which also commits the queues), the pipeline thread (1) and the tracking
      // database's checkpointer, which the pipeline starts (2).
      const names = ["listener (main)", "pipeline", "tracking checkpointer"];
      const threads: Record<string, unknown> = {};
      for (const file of (await readdir(profDir)).sort()) {
        const tid = Number(file.split(".")[4]);
        const profile = JSON.parse(await readFile(join(profDir, file), "utf8"));
        const { totals, totalMs } = categorize(profile);
        threads[names[tid] ?? `thread ${tid}`] = {
          ms: Math.round(totalMs),
          perMessageMs: Object.fromEntries(
            [...totals]
              .sort((a, b) => b[1] - a[1])
              .map(([k, v]) => [k, Math.round((v / messages) * 1000) / 1000]),
          ),
        };
      }
      report.threads = threads;
      report.note =
        "per thread, samples of the whole process life (start-up and a 200-message warm-up included), divided by the messages of the measured run";
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await relay.stop();
    await sink.stop();
    await rm(work, { recursive: true, force: true });
  }
}
