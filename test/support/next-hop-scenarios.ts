// The next-hop limit scenarios both runtimes' deliver must pass; deliver-limits-local and -aws supply the deployment.
import { describe, expect, test } from "vitest";
import type { DeliveryJob } from "#core/message.ts";
import type { NextHopGovernor } from "#core/next-hop/governor.ts";
import type { TrackingStore } from "#core/ports.ts";
import { deliveriesAt, smartHostJob } from "./delivery-job.ts";
import {
  closedPort,
  FAST_SETTINGS,
  failoverConnectors,
  limitedConnector,
  primaryJob,
  rcptTimes,
  throttleFirstRcpt,
} from "./next-hop-fixtures.ts";
import { waitFor } from "./relay-process.ts";
import type { Sink } from "./sink.ts";

/** A runtime's deliver, `runners` of them at once (workers, execution environments) sharing one limits store. */
export interface LimitsDeployment {
  tracking: TrackingStore;
  /** Puts delivery jobs on the deployment's delivery queue. */
  enqueue(jobs: DeliveryJob[]): Promise<void>;
  governor: NextHopGovernor;
}

export type Deploy = (
  records: Record<string, unknown>[],
  runners: number,
) => Promise<LimitsDeployment>;

export function nextHopLimitScenarios(shape: string, sinkOf: () => Sink, deploy: Deploy): void {
  const delivered = (tracking: TrackingStore, jobs: DeliveryJob[]) =>
    waitFor(
      "every recipient delivered",
      async () => {
        const rows = await Promise.all(
          jobs.map((j) => tracking.get(j.messageId, j.recipients[0]!)),
        );
        return rows.every((r) => r?.status === "Delivered");
      },
      60_000,
    );

  describe(`next-hop limits across deliver runners (${shape})`, () => {
    test("a burst of 12 from three runners with maxPerDomainOutboundConnections 2: never more than 2 connections at the sink", async () => {
      const sink = sinkOf();
      const { tracking, enqueue } = await deploy(
        [limitedConnector(sink, { maxPerDomainOutboundConnections: 2 }), FAST_SETTINGS],
        3,
      );
      // A slow peer, so attempts overlap: each runner takes batches of 4, more than the 2 allowed.
      sink.script = { dataDelayMs: 300 };
      const jobs = Array.from({ length: 12 }, (_, i) => smartHostJob(`r${i}@fabrikam.test`, sink));
      const started = Date.now();
      await enqueue(jobs);
      await delivered(tracking, jobs);
      console.info(
        `${shape} burst: peak ${sink.peakConnections} connection(s) at the sink, 12 messages in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(sink.peakConnections).toBeLessThanOrEqual(2);
      expect(deliveriesAt(sink)).toEqual(Object.fromEntries(jobs.map((j) => [j.recipients[0], 1])));
      // Jobs sent back for a slot were not attempts: every row shows one attempt, no LastError.
      for (const j of jobs) {
        const row = await tracking.get(j.messageId, j.recipients[0]!);
        expect(row).toMatchObject({ status: "Delivered", attempts: 1 });
        expect(row?.lastError).toBeUndefined();
      }
    });

    test("a 421 4.7.28 reply backs the whole next hop off: other jobs reach the sink only after the backoff", async () => {
      const sink = sinkOf();
      const { tracking, enqueue, governor } = await deploy(
        [limitedConnector(sink, {}), FAST_SETTINGS],
        2,
      );
      const rcptAt = throttleFirstRcpt(sink);
      const first = smartHostJob("first@fabrikam.test", sink);
      await enqueue([first]);
      await waitFor("the first job deferred", async () => {
        const row = await tracking.get(first.messageId, "first@fabrikam.test");
        return row?.status === "Deferred";
      });
      const hop = await governor.hop(first.nextHopKey);
      expect(hop?.throttle?.lastError).toMatch(/421 4\.7\.28/);
      const until = hop?.throttle?.until ?? 0;
      expect(until).toBeGreaterThan(0);
      const others = ["a", "b", "c"].map((x) => smartHostJob(`${x}@fabrikam.test`, sink));
      await enqueue(others);
      await delivered(tracking, [first, ...others]);
      for (const j of others) {
        expect(rcptAt.get(j.recipients[0]!)).toBeGreaterThanOrEqual(until);
        expect(await tracking.get(j.messageId, j.recipients[0]!)).toMatchObject({ attempts: 1 });
      }
      // The throttled message's own retry waited for the backoff too, without another attempt.
      expect(await tracking.get(first.messageId, "first@fabrikam.test")).toMatchObject({
        status: "Delivered",
        attempts: 2,
      });
    });

    test("a dead smart host: after 3 refused connections its circuit opens and the cost-2 connector takes the mail", async () => {
      const sink = sinkOf();
      const dead = await closedPort();
      const { tracking, enqueue, governor } = await deploy(
        [...failoverConnectors(sink, dead), FAST_SETTINGS],
        1,
      );
      const jobs = Array.from({ length: 6 }, (_, i) =>
        primaryJob(`f${i}@fabrikam.test`, sink, dead),
      );
      const atSink = rcptTimes(sink);
      const started = Date.now();
      // Three jobs meet the refused port and open its circuit...
      await enqueue(jobs.slice(0, 3));
      await waitFor("the circuit open", async () => {
        return (await governor.circuit("127.0.0.1", dead))?.openUntil !== undefined;
      });
      // ...so later jobs skip it without connecting and go out through the cost-2 connector at once.
      await enqueue(jobs.slice(3));
      await delivered(tracking, jobs);
      console.info(
        `${shape} failover: first message through the cost-2 connector after ${(atSink[0] ?? 0) - started} ms`,
      );
      expect(Object.keys(deliveriesAt(sink))).toHaveLength(6);
      const circuit = await governor.circuit("127.0.0.1", dead);
      expect(circuit).toMatchObject({ failures: 3, opens: 1 });
      expect(circuit?.lastError).toMatch(/451 4\.4\.1/);
      for (const j of jobs.slice(3)) {
        expect(await tracking.get(j.messageId, j.recipients[0]!)).toMatchObject({ attempts: 1 });
        const events = await tracking.events({ messageId: j.messageId });
        expect(events.find((e) => e.event === "ROUTE")?.detail).toMatch(
          /^Failover from send connector "Primary" to "Backup": every smart host has an open circuit \(127\.0\.0\.1:\d+ until /,
        );
      }
    });
  });
}
