// The local spool's in-memory copy of what it wrote: receives give the same bodies with or without it, and the files stay the truth.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { LocalQueue } from "#adapters/local/spool.ts";
import { ManualClock } from "#test/support/clock.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "spool-cache-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const body = (n: number) => ({ n, text: `message ${n} `.repeat(20) });

test("bodies come back intact whether held in memory or read from disk, on every receive", async () => {
  const clock = new ManualClock();
  // Room for about one message: the first is held, the second read back from its file.
  const q = await LocalQueue.open<ReturnType<typeof body>>(join(dir, "q"), {
    clock,
    visibilityTimeoutSeconds: 30,
    cacheChars: 400,
  });
  await q.send(body(1));
  await q.send(body(2));
  const first = await q.receive(10);
  expect(first.map((m) => m.body)).toEqual([body(1), body(2)]);
  // A caller changing what it received changes nothing for the next receive.
  first[0]!.body.n = 99;
  clock.advance(30_000);
  const again = await q.receive(10);
  expect(again.map((m) => m.body)).toEqual([body(1), body(2)]);
  expect(again.map((m) => m.receiveCount)).toEqual([2, 2]);

  // Deleting releases the budget: a later message is held again, and still written durably.
  for (const m of again) await q.delete(m.receiptHandle);
  await q.send(body(3));
  expect((await readdir(join(dir, "q"))).filter((f) => !f.startsWith("."))).toHaveLength(1);
  expect((await q.receive(10)).map((m) => m.body)).toEqual([body(3)]);
  // After a restart the same message comes from its file.
  const reopened = await LocalQueue.open<ReturnType<typeof body>>(join(dir, "q"), { clock });
  clock.advance(30_000);
  expect((await reopened.receive(10)).map((m) => m.body)).toEqual([body(3)]);
});

test("with no budget every receive reads the file", async () => {
  const q = await LocalQueue.open<ReturnType<typeof body>>(join(dir, "q"), { cacheChars: 0 });
  await q.send(body(1));
  expect((await q.receive()).map((m) => m.body)).toEqual([body(1)]);
});
