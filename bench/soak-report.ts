// `npm run bench:soak`'s result: memory samples over time, their trend, and whether they stay within the stated bound.
import { round } from "./stats.ts";

export interface MemorySample {
  /** Seconds since the load started. */
  s: number;
  /** Messages the sink had received by then. */
  delivered: number;
  /** Messages the relay still held (submission + delivery). */
  queued: number;
  rssMiB: number;
  /** Live heap after a full collection: listener thread, pipeline thread. */
  heapMiB: { listener: number; pipeline: number };
  /** Heap V8 has reserved (used or not), both threads: RSS follows this, not the live heap. */
  heapTotalMiB: number;
  /** Off-heap memory V8 knows of (Buffers, SQLite is not counted), both threads. */
  externalMiB: number;
}

export interface Trend {
  /** Least-squares slope over the second half of the run. */
  perHourMiB: number;
  per10kMessagesMiB: number;
}

export interface SoakResult {
  bench: "connector-relay soak";
  startedAt: string;
  params: {
    minutes: number;
    rate: number;
    size: number;
    sessions: number;
    sampleSeconds: number;
    /** The relay's node flags (the start script's and any override). */
    nodeFlags?: string[];
  };
  sent: number;
  delivered: number;
  achievedRate: number;
  samples: MemorySample[];
  rssMiB: { first: number; atHalf: number; last: number; max: number; trend: Trend };
  heapMiB: { first: number; atHalf: number; last: number; max: number; trend: Trend };
  bound: { rssMiB: number; heapGrowthPer10kMiB: number; met: boolean; why: string };
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function trendOf(samples: MemorySample[], value: (s: MemorySample) => number): Trend {
  // The first half holds the warm-up (JIT, caches filling, SQLite pages); a leak shows in the second.
  const late = samples.slice(Math.floor(samples.length / 2));
  const ys = late.map(value);
  return {
    perHourMiB: round(
      slope(
        late.map((s) => s.s),
        ys,
      ) * 3600,
    ),
    per10kMessagesMiB: round(
      slope(
        late.map((s) => s.delivered),
        ys,
      ) * 10_000,
    ),
  };
}

function seriesOf(samples: MemorySample[], value: (s: MemorySample) => number) {
  const v = samples.map(value);
  return {
    first: round(v[0] ?? Number.NaN, 1),
    atHalf: round(v[Math.floor(v.length / 2)] ?? Number.NaN, 1),
    last: round(v.at(-1) ?? Number.NaN, 1),
    max: round(Math.max(...v), 1),
    trend: trendOf(samples, value),
  };
}

export const heapOf = (s: MemorySample) => s.heapMiB.listener + s.heapMiB.pipeline;

export function soakResult(
  base: Omit<SoakResult, "rssMiB" | "heapMiB" | "bound">,
  bound: { rssMiB: number; heapGrowthPer10kMiB: number },
): SoakResult {
  const rss = seriesOf(base.samples, (s) => s.rssMiB);
  const heap = seriesOf(base.samples, heapOf);
  const rssOk = rss.max <= bound.rssMiB;
  const heapOk = heap.trend.per10kMessagesMiB <= bound.heapGrowthPer10kMiB;
  const why = [
    `RSS max ${rss.max} MiB ${rssOk ? "≤" : ">"} ${bound.rssMiB} MiB`,
    `live heap ${heap.trend.per10kMessagesMiB >= 0 ? "+" : ""}${heap.trend.per10kMessagesMiB} MiB per 10k messages in the second half ${heapOk ? "≤" : ">"} ${bound.heapGrowthPer10kMiB}`,
  ].join("; ");
  return { ...base, rssMiB: rss, heapMiB: heap, bound: { ...bound, met: rssOk && heapOk, why } };
}

export function soakSummary(r: SoakResult): string {
  const lines = [
    `connector-relay soak: ${r.params.minutes} min at ${r.params.rate} msgs/s (achieved ${r.achievedRate}), ${r.sent} sent, ${r.delivered} delivered`,
    "   min  delivered  queued   RSS MiB  heap MiB (listener + pipeline)",
  ];
  const step = Math.max(1, Math.floor(r.samples.length / 20));
  for (const [i, s] of r.samples.entries()) {
    if (i % step !== 0 && i !== r.samples.length - 1) continue;
    lines.push(
      `  ${(s.s / 60).toFixed(1).padStart(4)}  ${String(s.delivered).padStart(9)}  ${String(s.queued).padStart(6)}  ${s.rssMiB.toFixed(1).padStart(8)}  ${heapOf(s).toFixed(1).padStart(8)} (${s.heapMiB.listener.toFixed(1)} + ${s.heapMiB.pipeline.toFixed(1)})`,
    );
  }
  const t = (x: Trend) => `${x.perHourMiB} MiB/h, ${x.per10kMessagesMiB} MiB per 10k messages`;
  lines.push(
    `  RSS  first ${r.rssMiB.first} max ${r.rssMiB.max} last ${r.rssMiB.last}; trend ${t(r.rssMiB.trend)}`,
  );
  lines.push(
    `  heap first ${r.heapMiB.first} max ${r.heapMiB.max} last ${r.heapMiB.last}; trend ${t(r.heapMiB.trend)}`,
  );
  lines.push(`  bound ${r.bound.met ? "met" : "MISSED"}: ${r.bound.why}`);
  return lines.join("\n");
}
