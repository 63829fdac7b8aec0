// The durable local spool: SQS semantics on disk, and nothing lost or half-visible across a reopen.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LocalQueue } from "#adapters/local/spool.ts";
import { ManualClock } from "#test/support/clock.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "spool-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("local spool", () => {
  test("a sent message survives closing and reopening the queue", async () => {
    const q = await LocalQueue.open<{ n: number }>(join(dir, "q"));
    await q.send({ n: 1 });
    await q.send({ n: 2 });
    const again = await LocalQueue.open<{ n: number }>(join(dir, "q"));
    const got = await again.receive(10);
    expect(got.map((m) => m.body.n).sort()).toEqual([1, 2]);
    expect(got.every((m) => m.receiveCount === 1)).toBe(true);
  });

  test("delay hides a message until it is due", async () => {
    const clock = new ManualClock();
    const q = await LocalQueue.open<string>(join(dir, "q"), { clock });
    await q.send("later", { delaySeconds: 60 });
    expect(await q.receive()).toEqual([]);
    expect(q.stats()).toMatchObject({ delayed: 1, visible: 0 });
    clock.advance(60_000);
    expect((await q.receive()).map((m) => m.body)).toEqual(["later"]);
  });

  test("an undeleted message comes back after its visibility timeout with a higher receive count", async () => {
    const clock = new ManualClock();
    const q = await LocalQueue.open<string>(join(dir, "q"), {
      clock,
      visibilityTimeoutSeconds: 30,
    });
    await q.send("m");
    const [first] = await q.receive();
    expect(await q.receive()).toEqual([]);
    clock.advance(30_000);
    const [second] = await q.receive();
    expect(second?.receiveCount).toBe(2);
    // The first receipt handle is stale now: deleting with it does nothing.
    await q.delete(first!.receiptHandle);
    expect(q.size).toBe(1);
    await q.delete(second!.receiptHandle);
    expect(q.size).toBe(0);
  });

  test("in-flight state survives a reopen: the message stays hidden until its visibility ends", async () => {
    const clock = new ManualClock();
    const q = await LocalQueue.open<string>(join(dir, "q"), {
      clock,
      visibilityTimeoutSeconds: 30,
    });
    await q.send("m");
    await q.receive();
    const reopened = await LocalQueue.open<string>(join(dir, "q"), {
      clock,
      visibilityTimeoutSeconds: 30,
    });
    expect(await reopened.receive()).toEqual([]);
    clock.advance(30_000);
    expect((await reopened.receive())[0]?.receiveCount).toBe(2);
  });

  test("after maxReceiveCount receives the message moves to the dead-letter queue", async () => {
    const clock = new ManualClock();
    const dlq = await LocalQueue.open<unknown>(join(dir, "dlq"), { clock });
    const q = await LocalQueue.open<string>(join(dir, "q"), {
      clock,
      visibilityTimeoutSeconds: 10,
      maxReceiveCount: 3,
      deadLetter: dlq,
    });
    await q.send("poison");
    for (let i = 1; i <= 3; i++) {
      expect((await q.receive())[0]?.receiveCount).toBe(i);
      clock.advance(10_000);
    }
    expect(await q.receive()).toEqual([]);
    expect(q.size).toBe(0);
    expect((await dlq.receive()).map((m) => m.body)).toEqual(["poison"]);
  });

  test("redrive moves dead letters back to the source queue", async () => {
    const dlq = await LocalQueue.open<string>(join(dir, "dlq"));
    const q = await LocalQueue.open<string>(join(dir, "q"));
    await dlq.send("a");
    await dlq.send("b");
    expect(await dlq.redriveTo(q)).toBe(2);
    expect(dlq.size).toBe(0);
    expect((await q.receive()).map((m) => m.body).sort()).toEqual(["a", "b"]);
  });

  test("a half-written file left in .tmp by a crash is never delivered", async () => {
    const q = await LocalQueue.open<string>(join(dir, "q"));
    await writeFile(join(dir, "q", ".tmp", "abc"), '{"id":"abc","body":"tru');
    const reopened = await LocalQueue.open<string>(join(dir, "q"));
    expect(await reopened.receive()).toEqual([]);
    expect(await readdir(join(dir, "q", ".tmp"))).toEqual([]);
    void q;
  });

  test("a send that cannot be written rejects and leaves nothing visible", async () => {
    const q = await LocalQueue.open<string>(join(dir, "q"));
    await rm(join(dir, "q"), { recursive: true, force: true }); // the spool disappears under us
    await expect(q.send("x")).rejects.toThrow(/could not spool message/);
    expect(q.size).toBe(0);
  });

  test("concurrent receivers never get the same message", async () => {
    const q = await LocalQueue.open<number>(join(dir, "q"));
    await Promise.all(Array.from({ length: 50 }, (_, i) => q.send(i)));
    const batches = await Promise.all([
      q.receive(10),
      q.receive(10),
      q.receive(10),
      q.receive(10),
      q.receive(10),
      q.receive(10),
    ]);
    const ids = batches.flat().map((m) => m.body);
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
  });

  test("waitForMessages wakes on send", async () => {
    const q = await LocalQueue.open<string>(join(dir, "q"));
    const waiting = q.waitForMessages(10_000);
    setTimeout(() => void q.send("wake"), 20);
    await waiting;
    expect((await q.receive()).map((m) => m.body)).toEqual(["wake"]);
  });
});

test("releaseInFlight makes what a dead process had received visible again, but keeps delays", async () => {
  const d = await mkdtemp(join(tmpdir(), "spool-"));
  const clock = new ManualClock();
  const q = await LocalQueue.open<string>(join(d, "q"), { clock, visibilityTimeoutSeconds: 600 });
  await q.send("in flight");
  await q.send("delayed", { delaySeconds: 300 });
  await q.receive();
  const restarted = await LocalQueue.open<string>(join(d, "q"), {
    clock,
    visibilityTimeoutSeconds: 600,
  });
  expect(await restarted.releaseInFlight()).toBe(1);
  const got = await restarted.receive();
  expect(got.map((m) => [m.body, m.receiveCount])).toEqual([["in flight", 2]]);
  await rm(d, { recursive: true, force: true });
});

describe("another process beside a live queue (the admin CLI)", () => {
  test("drop writes durably without opening the queue and leaves its .tmp alone", async () => {
    const q = await LocalQueue.open<string>(join(dir, "q"));
    // A write of the owning process in progress: opening the queue again would delete it.
    await writeFile(join(dir, "q", ".tmp", "in-progress"), "half");
    const id = await LocalQueue.drop(join(dir, "q"), "from the cli", { delaySeconds: 0 });
    expect(await readdir(join(dir, "q", ".tmp"))).toEqual(["in-progress"]);
    const files = await LocalQueue.files(join(dir, "q"));
    expect(files).toEqual([
      {
        messageId: id,
        file: expect.stringMatching(/^[a-z0-9-]+~\d+~0$/),
        visibleAt: expect.any(Number),
        receiveCount: 0,
      },
    ]);
    expect((await LocalQueue.inspect<string>(join(dir, "q"))).map((m) => m.body)).toEqual([
      "from the cli",
    ]);
    expect(await q.rescan()).toEqual({ adopted: 1, forgotten: 0 });
    expect((await q.receive()).map((m) => m.body)).toEqual(["from the cli"]);
  });

  test("a running queue adopts a dropped file by itself while a worker waits", async () => {
    const q = await LocalQueue.open<string>(join(dir, "q"));
    const woke = q.waitForMessages(25_000).then(() => "woke");
    await LocalQueue.drop(join(dir, "q"), "wake up");
    expect(await woke).toBe("woke");
    expect((await q.receive()).map((m) => m.body)).toEqual(["wake up"]);
  });

  test("a dropped delay is kept: the adopted message is hidden until due", async () => {
    const clock = new ManualClock();
    const q = await LocalQueue.open<string>(join(dir, "q"), { clock });
    await LocalQueue.drop(join(dir, "q"), "later", { delaySeconds: 60, clock });
    await q.rescan();
    expect(await q.receive()).toEqual([]);
    clock.advance(60_000);
    expect((await q.receive()).map((m) => m.body)).toEqual(["later"]);
  });

  test("a file removed by another process is forgotten; discard removes by id", async () => {
    const q = await LocalQueue.open<string>(join(dir, "q"));
    const keep = await q.send("keep");
    const gone = await q.send("gone");
    expect(await LocalQueue.discard(join(dir, "q"), gone)).toBe(true);
    expect(await LocalQueue.discard(join(dir, "q"), gone)).toBe(false);
    expect(await q.rescan()).toEqual({ adopted: 0, forgotten: 1 });
    expect(q.size).toBe(1);
    const got = await q.receive();
    expect(got.map((m) => [m.messageId, m.body])).toEqual([[keep, "keep"]]);
  });

  test("a scan never brings back what this process deleted, nor takes its own files for foreign ones", async () => {
    const q = await LocalQueue.open<number>(join(dir, "q"));
    await Promise.all(Array.from({ length: 20 }, (_, i) => q.send(i)));
    const got = await q.receive(10);
    // Deletes, sends and scans interleaved, as a busy worker and its periodic check would.
    await Promise.all([
      ...got.map((m) => q.delete(m.receiptHandle)),
      q.rescan(),
      ...Array.from({ length: 5 }, (_, i) => q.send(100 + i)),
      q.rescan(),
    ]);
    await q.rescan();
    expect(q.size).toBe(15);
    const rest = await q.receive(100);
    // Sends finish in any order, so the first receive took whichever ten were indexed first.
    const taken = new Set(got.map((m) => m.body));
    const expected = [...Array.from({ length: 20 }, (_, i) => i).filter((i) => !taken.has(i))];
    expect(rest.map((m) => m.body).sort((a, b) => a - b)).toEqual([
      ...expected,
      100,
      101,
      102,
      103,
      104,
    ]);
  });
});
