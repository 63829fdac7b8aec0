// Contract of the rate counter store (rate limits, AUTH lockouts), shared by every adapter.
import { describe, expect, test } from "vitest";
import type { RateCounterStore } from "#core/ports.ts";

export interface CounterFixture {
  store: RateCounterStore;
  /** Moves time forward for the store (a manual clock, or real waiting). */
  advance(ms: number): Promise<void>;
  /** A second handle on the same counters (another process or listener task). */
  other?: RateCounterStore;
}

export function rateCounterStoreContract(name: string, make: () => Promise<CounterFixture>): void {
  describe(`RateCounterStore contract: ${name}`, () => {
    test("increments within a window add up; get reads the count and the window's end", async () => {
      const { store } = await make();
      const first = await store.increment("msg:client:ip:192.0.2.7", 60);
      expect(first.count).toBe(1);
      expect((await store.increment("msg:client:ip:192.0.2.7", 60)).count).toBe(2);
      expect((await store.increment("msg:client:ip:192.0.2.7", 60, 5)).count).toBe(7);
      const read = await store.get("msg:client:ip:192.0.2.7");
      expect(read?.count).toBe(7);
      // The window ends where the first increment put it (within the store's 1 s resolution).
      expect(Math.abs(read!.expiresAt.getTime() - first.expiresAt.getTime())).toBeLessThan(1000);
      expect(await store.get("msg:client:ip:192.0.2.8")).toBeUndefined();
    });

    test("after the window the counter reads as absent and the next increment starts again", async () => {
      const { store, advance } = await make();
      await store.increment("rcpt:user:scanner", 1, 3);
      await advance(2100);
      expect(await store.get("rcpt:user:scanner")).toBeUndefined();
      expect((await store.increment("rcpt:user:scanner", 60)).count).toBe(1);
    });

    test("a negative amount gives back on a live counter and never opens a window below zero", async () => {
      const { store, advance } = await make();
      await store.increment("authfail:user:scanner", 60, 2);
      expect((await store.increment("authfail:user:scanner", 60, -1)).count).toBe(1);
      await advance(62_000);
      expect((await store.increment("authfail:user:scanner", 60, -1)).count).toBe(0);
      expect(await store.get("authfail:user:scanner")).toBeUndefined();
      expect((await store.increment("authfail:user:scanner", 60)).count).toBe(1);
    });

    test("delete removes a counter; deleting a missing one is fine", async () => {
      const { store } = await make();
      await store.increment("lock:user:scanner", 900);
      await store.delete("lock:user:scanner");
      await store.delete("lock:user:scanner");
      expect(await store.get("lock:user:scanner")).toBeUndefined();
    });

    test("concurrent increments from two handles each get their own count", async () => {
      const { store, other } = await make();
      const handles = [store, other ?? store];
      const counts = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          handles[i % 2]!.increment("authfail:ip:192.0.2.9", 600),
        ),
      );
      expect(counts.map((c) => c.count).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      expect((await (other ?? store).get("authfail:ip:192.0.2.9"))?.count).toBe(20);
    });
  });
}
