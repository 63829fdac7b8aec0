// Throughput runs: smtp-source against one peer (sink, Postfix or connector-relay), timed to the last 250 and to the last message at the sink.
import { availableParallelism } from "node:os";
import { cpuSeconds, machineTicks } from "./cpu.ts";
import { runSmtpSource, type SmtpSink } from "./smtp-tools.ts";

export type Shape = "newconn" | "reuse";

/** smtp-source arguments: parallel sessions, and -d to send every message of a session on one connection. */
export function shapeArgs(shape: Shape, sessions: number): string[] {
  return shape === "reuse" ? ["-s", String(sessions), "-d"] : ["-s", String(sessions)];
}

export interface Peer {
  name: "sink" | "postfix" | "relay";
  port: number;
  /** Messages the peer still holds (0 for the sink). */
  queued(): Promise<number> | number;
  /** CPU seconds the peer has used so far; absent for the sink (counted in `otherCpuPct` anyway). */
  cpu?(): Promise<number>;
}

export interface RunOptions {
  messages: number;
  size: number;
  sessions: number;
  from: string;
  to: string;
}

export interface RunResult {
  ok: boolean;
  /** Messages per second until smtp-source had every 250. */
  accept: number;
  /** Messages per second until the sink had every message. */
  e2e: number;
  /** The peer's CPU ms per message over the whole run (accept and delivery). */
  cpuMsPerMsg?: number;
  /** Whole machine busy during the run, and the share used by processes outside the benchmark. */
  machineBusyPct: number;
  otherCpuPct: number;
  problem?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitIdle(peer: Peer, timeoutMs = 120_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await peer.queued()) === 0) return true;
    await sleep(50);
  }
  return false;
}

export async function throughputRun(
  peer: Peer,
  sink: SmtpSink,
  shape: Shape,
  o: RunOptions,
): Promise<RunResult> {
  await waitIdle(peer);
  await sleep(500);
  const before = sink.count();
  const m0 = machineTicks();
  const ours0 = cpuSeconds(process.pid) + cpuSeconds(sink.pid);
  const peer0 = (await peer.cpu?.()) ?? 0;
  const t0 = performance.now();
  const source = await runSmtpSource(peer.port, shapeArgs(shape, o.sessions), {
    messages: o.messages,
    size: o.size,
    from: o.from,
    to: o.to,
    timeoutMs: 300_000,
  });
  const end = Date.now() + 180_000;
  while (sink.count() - before < o.messages && Date.now() < end) await sleep(5);
  const t2 = performance.now();
  const peer1 = (await peer.cpu?.()) ?? 0;
  const ours1 = cpuSeconds(process.pid) + cpuSeconds(sink.pid);
  const m1 = machineTicks();
  const got = sink.count() - before;
  const total = Math.max(1, m1.total - m0.total);
  // /proc/stat counts every CPU: a tick there is 1/nproc of a second of one CPU's time per tick.
  const ticksPerSecond = total / ((t2 - t0) / 1000);
  const oursTicks = (ours1 - ours0 + (peer1 - peer0)) * (ticksPerSecond / availableParallelism());
  const problems = [
    source.code !== 0 ? `smtp-source exit ${source.code}: ${source.stderr.trim()}` : "",
    got < o.messages ? `sink got ${got} of ${o.messages}` : "",
  ].filter(Boolean);
  return {
    ok: problems.length === 0,
    accept: o.messages / (source.ms / 1000),
    e2e: o.messages / ((t2 - t0) / 1000),
    ...(peer.cpu ? { cpuMsPerMsg: ((peer1 - peer0) * 1000) / o.messages } : {}),
    machineBusyPct: Math.round((100 * (m1.busy - m0.busy)) / total),
    otherCpuPct: Math.max(0, Math.round((100 * (m1.busy - m0.busy - oursTicks)) / total)),
    ...(problems.length ? { problem: problems.join("; ") } : {}),
  };
}
