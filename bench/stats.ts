// Small statistics for benchmark figures: min/median/max of repeated runs and latency percentiles.

export interface Spread {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

export interface Percentiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function median(values: number[]): number {
  const v = sorted(values);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export function spread(values: number[], digits = 1): Spread {
  const v = sorted(values);
  return {
    min: round(v[0] ?? Number.NaN, digits),
    median: round(median(v), digits),
    max: round(v.at(-1) ?? Number.NaN, digits),
    runs: values.map((x) => round(x, digits)),
  };
}

/** Nearest-rank percentiles (the baseline probe's method), in the unit of `values`. */
export function percentiles(values: number[], digits = 2): Percentiles {
  const v = sorted(values);
  const at = (p: number) => v[Math.min(v.length - 1, Math.round((p / 100) * (v.length - 1)))] ?? 0;
  const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  return {
    n: v.length,
    p50: round(at(50), digits),
    p90: round(at(90), digits),
    p99: round(at(99), digits),
    max: round(v.at(-1) ?? 0, digits),
    mean: round(mean, digits),
  };
}

/** `ours / theirs`, or null when either side is missing. */
export function ratio(ours: number | undefined, theirs: number | undefined): number | null {
  if (ours === undefined || theirs === undefined) return null;
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return null;
  return round(ours / theirs, 3);
}
