// Promise 2 under fire: SIGKILL local mode in the middle of a 2,000-message load, restart it, and
// every message that got a 250 is delivered (duplicates are allowed — at-least-once — and reported).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import {
  appsConnector,
  freePort,
  smartHostConnector,
  startRelayProcess,
  waitFor,
  writeRecords,
} from "#test/support/relay-process.ts";
import { startSink } from "#test/support/sink.ts";
import { sendLoad } from "#test/support/smtp-load.ts";

const TOTAL = 2000;
const KILL_AFTER = 700;
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

test("kill -9 mid-load loses nothing that got a 250", async () => {
  const home = await mkdtemp(join(tmpdir(), "relay-crash-"));
  cleanup.push(() => rm(home, { recursive: true, force: true }));
  const sink = await startSink();
  cleanup.push(() => sink.close());
  const port = await freePort();
  await writeRecords(home, [
    appsConnector(port, { name: "Load", maxInboundConnectionPerSource: 50 }),
    smartHostConnector(`127.0.0.1:${sink.port}`, "Sink"),
  ]);

  const first = startRelayProcess(home);
  cleanup.push(() => first.kill());
  await first.ready;
  let killing: Promise<void> | undefined;
  const load = await sendLoad({
    host: "127.0.0.1",
    port,
    total: TOTAL,
    connections: 10,
    from: "load@example.com",
    to: "rcpt@example.net",
    size: 4096,
    onAck: (n) => {
      if (n === KILL_AFTER) killing = first.kill();
    },
  });
  await killing;
  const acked = [...load.acked.keys()];
  expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER);
  expect(acked.length).toBeLessThan(TOTAL); // the kill really happened mid-load
  expect(load.errors.length).toBeGreaterThan(0);

  const second = startRelayProcess(home);
  cleanup.push(() => second.stop());
  await second.ready;
  const delivered = () => {
    const counts = new Map<number, number>();
    for (const m of sink.received) {
      const i = Number(/Message-ID: <load-(\d+)@/.exec(m.raw.toString("latin1"))?.[1]);
      counts.set(i, (counts.get(i) ?? 0) + 1);
    }
    return counts;
  };
  await waitFor(
    "every acknowledged message at the sink",
    () => acked.every((i) => delivered().has(i)),
    120_000,
  );
  const counts = delivered();
  const duplicates = [...counts.values()].filter((c) => c > 1).length;
  const unacked = [...counts.keys()].filter((i) => !load.acked.has(i)).length;
  // Reported, not asserted: duplicates are the price of at-least-once after a crash between
  // delivery and its tracking update; unacknowledged deliveries are messages spooled when the kill
  // came before the 250 reached the client (the client retries those, as RFC 5321 expects).
  console.log(
    JSON.stringify({
      crashTest: {
        sent: TOTAL,
        acknowledged: acked.length,
        delivered: counts.size,
        missing: 0,
        duplicates,
        deliveredWithout250: unacked,
      },
    }),
  );
  expect(acked.filter((i) => !counts.has(i))).toEqual([]);
}, 240_000);
