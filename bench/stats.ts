// Small statistics for benchmark figures: min/median/max of repeated runs, latency percentiles and how sure a ratio of two is.

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

/** The nearest-rank `p`th percentile of values already sorted ascending (0 when there are none). */
function rank(v: ArrayLike<number>, p: number): number {
  return v[Math.min(v.length - 1, Math.round((p / 100) * (v.length - 1)))] ?? 0;
}

/** Nearest-rank percentiles (the baseline probe's method), in the unit of `values`. */
export function percentiles(values: number[], digits = 2): Percentiles {
  const v = sorted(values);
  const at = (p: number) => rank(v, p);
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

/** A 95 % interval: the 2.5th and 97.5th percentiles of a bootstrap distribution. */
export interface Interval {
  low: number;
  high: number;
}

/**
 * How sure a ratio of two percentiles is: `p`th percentile of `numerator` ÷ that of `denominator`,
 * bootstrapped (each sample resampled with replacement, `iterations` times, from a fixed seed so a
 * result can be recomputed). A p99 of 1000 messages rests on its ten slowest, so two peers at parity
 * land on either side of 1 from run to run; an interval that holds 1 says the run could not tell
 * them apart. Null when either sample is empty.
 */
export function percentileRatioInterval(
  numerator: number[],
  denominator: number[],
  p: number,
  o: { iterations?: number; seed?: number } = {},
): Interval | null {
  if (numerator.length === 0 || denominator.length === 0) return null;
  const random = mulberry32(o.seed ?? 1);
  const resampled = (values: number[], into: Float64Array) => {
    for (let i = 0; i < into.length; i++) into[i] = values[Math.floor(random() * values.length)]!;
    return rank(into.sort(), p);
  };
  const a = new Float64Array(numerator.length);
  const b = new Float64Array(denominator.length);
  const ratios: number[] = [];
  for (let i = 0; i < (o.iterations ?? 2000); i++) {
    const bottom = resampled(denominator, b);
    if (bottom > 0) ratios.push(resampled(numerator, a) / bottom);
  }
  if (ratios.length === 0) return null;
  const r = sorted(ratios);
  return { low: round(rank(r, 2.5), 3), high: round(rank(r, 97.5), 3) };
}

/** A small seeded generator (mulberry32): the same intervals from the same samples. */
function mulberry32(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
