// The bench's interval for a ratio of two latency percentiles: parity holds 1, a clear difference does not.
import { describe, expect, test } from "vitest";
import { percentileRatioInterval, percentiles } from "../../bench/stats.ts";

/** A long-tailed sample like the dot→250 times: mostly ~1 ms, a few slow ones, from a fixed seed. */
function latencies(n: number, seed: number, scale = 1): number[] {
  let t = seed;
  const next = () => {
    t = (t * 1103515245 + 12345) % 2147483648;
    return t / 2147483648;
  };
  return Array.from({ length: n }, () => scale * (0.5 + -Math.log(1 - next()) * 0.8));
}

describe("percentileRatioInterval", () => {
  test("two samples of one distribution: the p99 ratio's interval holds 1", () => {
    const a = latencies(1000, 7);
    const b = latencies(1000, 99);
    const i = percentileRatioInterval(a, b, 99);
    expect(i).not.toBeNull();
    expect(i!.low).toBeLessThan(1);
    expect(i!.high).toBeGreaterThan(1);
  });

  test("one peer twice as slow: the interval is around 2 and leaves 1 out", () => {
    const slow = latencies(1000, 7, 2);
    const fast = latencies(1000, 99);
    const point = percentiles(slow).p99 / percentiles(fast).p99;
    const i = percentileRatioInterval(slow, fast, 99)!;
    expect(i.low).toBeGreaterThan(1.2);
    expect(i.low).toBeLessThanOrEqual(point);
    expect(i.high).toBeGreaterThanOrEqual(point);
    expect(i.high).toBeLessThan(3.5);
  });

  test("the median's interval is narrower than the p99's", () => {
    const a = latencies(1000, 3);
    const b = latencies(1000, 4);
    const p50 = percentileRatioInterval(a, b, 50)!;
    const p99 = percentileRatioInterval(a, b, 99)!;
    expect(p50.high - p50.low).toBeLessThan(p99.high - p99.low);
  });

  test("the same samples and seed give the same interval; another seed another draw", () => {
    const a = latencies(500, 1);
    const b = latencies(500, 2);
    expect(percentileRatioInterval(a, b, 99)).toEqual(percentileRatioInterval(a, b, 99));
    expect(percentileRatioInterval(a, b, 99, { seed: 2 })).not.toEqual(
      percentileRatioInterval(a, b, 99),
    );
  });

  test("an empty sample has no interval", () => {
    expect(percentileRatioInterval([], [1, 2, 3], 99)).toBeNull();
    expect(percentileRatioInterval([1, 2, 3], [], 99)).toBeNull();
  });
});
