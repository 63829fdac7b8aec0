// The benchmark's result document: its shape, the ratios to Postfix, the issue's targets, and a short text summary.
import { type AwsShapeResult, awsShapeSummary } from "./aws-report.ts";
import type { BundleFigures } from "./bundles.ts";
import type { HandlerFigures } from "./handlers.ts";
import {
  intervalText,
  type LatencyIntervals,
  type LatencyResult,
  type LatencyRows,
} from "./latency.ts";
import { type Percentiles, ratio, type Spread } from "./stats.ts";
import type { Shape } from "./throughput.ts";

export interface PeerThroughput {
  /** Messages per second until smtp-source had every 250. */
  accept: Spread;
  /** Messages per second until the sink had every message. */
  e2e: Spread;
  cpuMsPerMsg?: Spread;
  /** Runs that failed (not counted above), with why. */
  failed: string[];
}

export interface BenchResult {
  bench: "connector-relay";
  startedAt: string;
  durationSeconds: number;
  machine: Record<string, string | number>;
  params: {
    messages: number;
    sizeBytes: number;
    sessions: number;
    reps: number;
    latencyMessages: number;
    fsync: true;
  };
  throughput: Record<
    Shape,
    { sink: PeerThroughput; postfix: PeerThroughput; relay: PeerThroughput }
  >;
  /** Per-run load of the machine: busy %, and % used by processes outside the benchmark. */
  noise: { machineBusyPct: number[]; otherCpuPct: number[] };
  latency: LatencyRows;
  handlers: HandlerFigures;
  bundles: { route: BundleFigures; deliver: BundleFigures };
  /** The AWS shape on the emulators (bench/aws.ts); absent in results from before it existed. */
  aws?: AwsShapeResult;
  /** This relay's figure divided by Postfix's; latency and CPU inverted, so higher is better everywhere. */
  ratios: Record<string, number | null>;
  /** 95 % bootstrap intervals of the latency ratios (bench/stats.ts); absent in older results. */
  ratioIntervals?: LatencyIntervals;
  targets: Target[];
  files?: { json: string; svg: string };
}

export interface Target {
  name: string;
  goal: string;
  value: number | null;
  met: boolean;
}

type Figures = Omit<BenchResult, "ratios" | "ratioIntervals" | "targets" | "files">;

const p = (l: LatencyResult | undefined, k: keyof Percentiles) => l?.dot[k];

export function ratiosOf(r: Figures): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const shape of ["newconn", "reuse"] as const) {
    const t = r.throughput[shape];
    out[`accept.${shape}`] = ratio(t.relay.accept.median, t.postfix.accept.median);
    out[`e2e.${shape}`] = ratio(t.relay.e2e.median, t.postfix.e2e.median);
    out[`cpuPerMessage.${shape}`] = ratio(
      t.postfix.cpuMsPerMsg?.median,
      t.relay.cpuMsPerMsg?.median,
    );
  }
  for (const s of ["s1", "s10"] as const) {
    const l = r.latency[s];
    out[`latencyP50.${s}`] = ratio(p(l.postfix, "p50"), p(l.relay, "p50"));
    out[`latencyP99.${s}`] = ratio(p(l.postfix, "p99"), p(l.relay, "p99"));
  }
  return out;
}

export function targetsOf(r: Figures, ratios: Record<string, number | null>): Target[] {
  const atLeastOne = (name: string, key: string): Target => {
    const value = ratios[key] ?? null;
    return { name, goal: "≥ 1.0 × Postfix", value, met: value !== null && value >= 1 };
  };
  const p99 = p(r.latency.s10.relay, "p99") ?? null;
  const cpu = r.handlers.routePlusDeliverCpuMs;
  return [
    atLeastOne("accept, one connection per message", "accept.newconn"),
    atLeastOne("accept, connection reuse", "accept.reuse"),
    atLeastOne("end-to-end, one connection per message", "e2e.newconn"),
    atLeastOne("end-to-end, connection reuse", "e2e.reuse"),
    {
      name: "p99 accept latency at 10 sessions, fsync on (ms)",
      goal: "≤ 10 ms",
      value: p99,
      met: p99 !== null && p99 <= 10,
    },
    ...(r.aws
      ? [
          {
            name: "AWS listener per CPU, conn/msg (msgs/s)",
            goal: r.aws.listener.goal,
            value: r.aws.listener.accept.newconn.msgsPerSecPerCpu ?? null,
            met: r.aws.listener.met,
          },
        ]
      : []),
    {
      name: "route + deliver CPU per message, network excluded (ms)",
      goal: "≤ 5 ms",
      value: cpu,
      met: Number.isFinite(cpu) && cpu <= 5,
    },
  ];
}

/** A few lines for a terminal: medians, ratios and targets. */
export function summary(r: BenchResult): string {
  const lines: string[] = [];
  const { messages, sizeBytes, sessions, reps } = r.params;
  lines.push(
    `connector-relay bench: ${messages} × ${sizeBytes} B, ${sessions} sessions, ${reps} runs (median msgs/s)`,
  );
  for (const shape of ["newconn", "reuse"] as const) {
    const t = r.throughput[shape];
    lines.push(
      `  ${shape.padEnd(8)} sink ${t.sink.accept.median} | postfix accept ${t.postfix.accept.median} e2e ${t.postfix.e2e.median} | relay accept ${t.relay.accept.median} e2e ${t.relay.e2e.median}`,
    );
  }
  for (const s of ["s1", "s10"] as const) {
    const l = r.latency[s];
    lines.push(
      `  latency ${s.padEnd(4)} dot→250 p50/p99 ms: postfix ${l.postfix.dot.p50}/${l.postfix.dot.p99} relay ${l.relay.dot.p50}/${l.relay.dot.p99}; postfix÷relay p99 ${r.ratios[`latencyP99.${s}`]} (${intervalText(r.ratioIntervals?.[`latencyP99.${s}`])})`,
    );
  }
  const h = r.handlers;
  lines.push(
    `  handlers CPU ms/msg: route ${h.routeCpuMs}, deliver ${h.deliverCpuMs} (courier ${h.courierCpuMs}), route+deliver excl. network ${h.routePlusDeliverCpuMs}`,
  );
  for (const fn of ["route", "deliver"] as const) {
    const b = r.bundles[fn];
    lines.push(
      `  bundle ${fn}: ${b.bytes} B (gzip ${b.gzipBytes}), cold import ${b.coldImportMs.median} ms`,
    );
  }
  lines.push(
    `  ratios (relay/postfix, higher is better): ${Object.entries(r.ratios)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
  );
  if (r.aws) lines.push(awsShapeSummary(r.aws).replace(/^/gm, "  "));
  for (const t of r.targets)
    lines.push(`  ${t.met ? "met   " : "MISSED"} ${t.name}: ${t.value} (${t.goal})`);
  return lines.join("\n");
}
