// Contract of the next-hop state store (slots, rate, throttle, circuits), shared by every adapter.
import { describe, expect, test } from "vitest";
import { NextHopGovernor } from "#core/next-hop/governor.ts";
import type { HopStateStore } from "#core/next-hop/ports.ts";
import type { Clock } from "#core/ports.ts";

export interface HopStateFixture {
  store: HopStateStore;
  /** A second handle on the same documents (another process or Lambda execution environment). */
  other: HopStateStore;
  clock: Clock;
  advance(ms: number): Promise<void>;
}

const LIMITS = { maxConnections: 2, maxMessagesPerConnection: 20, maxPerMinute: 3 };

export function hopStateStoreContract(name: string, make: () => Promise<HopStateFixture>): void {
  describe(`HopStateStore contract: ${name}`, () => {
    test("a write names the version it read: a fresh key takes 0, a stale version loses", async () => {
      const { store, other, clock } = await make();
      const far = () => new Date(clock.now().getTime() + 3600_000);
      expect(await store.read("hop:fabrikam.test")).toBeUndefined();
      expect(await store.write("hop:fabrikam.test", { n: 1 }, 0, far())).toBe(true);
      expect(await other.write("hop:fabrikam.test", { n: 2 }, 0, far())).toBe(false);
      const read = await other.read<{ n: number }>("hop:fabrikam.test");
      expect(read?.state).toEqual({ n: 1 });
      expect(await other.write("hop:fabrikam.test", { n: 2 }, read!.version, far())).toBe(true);
      expect(await store.write("hop:fabrikam.test", { n: 3 }, read!.version, far())).toBe(false);
      expect((await store.read<{ n: number }>("hop:fabrikam.test"))?.state).toEqual({ n: 2 });
    });

    test("an expired document reads as absent and a fresh write replaces it", async () => {
      const { store, clock, advance } = await make();
      const soon = new Date(clock.now().getTime() + 1000);
      expect(await store.write("host:smtp.contoso.test:587", { failures: 1 }, 0, soon)).toBe(true);
      await advance(2100);
      expect(await store.read("host:smtp.contoso.test:587")).toBeUndefined();
      const later = new Date(clock.now().getTime() + 60_000);
      expect(await store.write("host:smtp.contoso.test:587", { failures: 0 }, 0, later)).toBe(true);
      expect((await store.read("host:smtp.contoso.test:587"))?.state).toEqual({ failures: 0 });
    });

    test("concurrent admissions from two handles never hand out more slots than the limit", async () => {
      const { store, other, clock } = await make();
      const governors = [new NextHopGovernor(store, clock), new NextHopGovernor(other, clock)];
      const until = new Date(clock.now().getTime() + 60_000);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          governors[i % 2]!.admit(
            "mx.fabrikam.test",
            { ...LIMITS, maxPerMinute: 100 },
            `job-${i}`,
            until,
          ),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(2);
      expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.kind)).toEqual(
        Array(6).fill("busy"),
      );
      const winner = results.findIndex((r) => r.ok);
      await governors[winner % 2]!.release("mx.fabrikam.test", `job-${winner}`);
      // The released slot lingers for its runner's idle connection: the other runner waits for
      // it, the same runner takes it over at once.
      const elsewhere = governors[(winner + 1) % 2]!;
      expect((await elsewhere.admit("mx.fabrikam.test", LIMITS, "late", until)).ok).toBe(false);
      expect(
        (await governors[winner % 2]!.admit("mx.fabrikam.test", LIMITS, "next", until)).ok,
      ).toBe(true);
    });

    test("a crashed holder's slot frees itself when its lease ends", async () => {
      const { store, clock, advance } = await make();
      const g = new NextHopGovernor(store, clock);
      const one = { ...LIMITS, maxConnections: 1 };
      expect(
        (await g.admit("smtp.contoso.test", one, "crashed", new Date(clock.now().getTime() + 2000)))
          .ok,
      ).toBe(true);
      expect(
        (await g.admit("smtp.contoso.test", one, "next", new Date(clock.now().getTime() + 60_000)))
          .ok,
      ).toBe(false);
      await advance(3000);
      expect(
        (await g.admit("smtp.contoso.test", one, "next", new Date(clock.now().getTime() + 60_000)))
          .ok,
      ).toBe(true);
    });

    test("the rate and a throttle backoff are seen by the other handle", async () => {
      const { store, other, clock } = await make();
      const [a, b] = [new NextHopGovernor(store, clock), new NextHopGovernor(other, clock)];
      const until = new Date(clock.now().getTime() + 60_000);
      for (const h of ["j1", "j2", "j3"]) {
        expect((await a.admit("gmail.test", { ...LIMITS, maxConnections: 10 }, h, until)).ok).toBe(
          true,
        );
        await a.release("gmail.test", h);
      }
      const fourth = await b.admit("gmail.test", { ...LIMITS, maxConnections: 10 }, "j4", until);
      expect(fourth).toMatchObject({ ok: false, kind: "rate" });
      await a.throttled(
        "yahoo.test",
        { throttleBackoffSeconds: 60, throttleBackoffMaxSeconds: 900, throttleRampSeconds: 300 },
        "421 4.7.0 [TSS04]",
      );
      expect(await b.admit("yahoo.test", LIMITS, "j5", until)).toMatchObject({
        ok: false,
        kind: "throttled",
      });
    });

    test("a host's circuit opens after the threshold and both handles skip it", async () => {
      const { store, other, clock } = await make();
      const [a, b] = [new NextHopGovernor(store, clock), new NextHopGovernor(other, clock)];
      const s = {
        circuitBreakerThreshold: 3,
        circuitBreakerWindowSeconds: 300,
        circuitBreakerOpenSeconds: 60,
        circuitBreakerMaxOpenSeconds: 900,
      };
      const probe = new Date(clock.now().getTime() + 30_000);
      for (let i = 0; i < 3; i++) {
        expect((await b.gate("smtp.contoso.test", 587, probe)).kind).toBe("closed");
        await a.report("smtp.contoso.test", 587, true, s, "451 4.4.1 Unable to connect");
      }
      expect(await b.gate("smtp.contoso.test", 587, probe)).toMatchObject({
        kind: "open",
        lastError: "451 4.4.1 Unable to connect",
      });
      expect((await a.gate("smtp2.contoso.test", 587, probe)).kind).toBe("closed");
    });
  });
}
