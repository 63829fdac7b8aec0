// Promise 2 under fire: SIGKILL local mode in the middle of a 2,000-message load, restart it, and
// every message that got a 250 is delivered (duplicates are allowed — at-least-once — and reported).
import { expect, test } from "vitest";
import { runCrash } from "#test/support/crash-run.ts";

const TOTAL = 2000;
const KILL_AFTER = 700;

test("kill -9 mid-load loses nothing that got a 250", async () => {
  const run = await runCrash({ total: TOTAL, killAfter: KILL_AFTER });
  // Reported, not asserted: a duplicate is a delivery whose remote 250 arrived but whose
  // "Delivered" was not yet recorded when the process died (at-least-once; its rate is measured by
  // `npm run bench:crash`). Unacknowledged deliveries are messages queued when the kill came
  // before the 250 reached the client (the client retries those, as RFC 5321 expects).
  console.log(JSON.stringify({ crashTest: { ...run, missing: run.missing.length } }));
  expect(run.acknowledged).toBeGreaterThanOrEqual(KILL_AFTER);
  expect(run.acknowledged).toBeLessThan(TOTAL); // the kill really happened mid-load
  expect(run.loadErrors).toBeGreaterThan(0);
  expect(run.missing).toEqual([]);
}, 240_000);
