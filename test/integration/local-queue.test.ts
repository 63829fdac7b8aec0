// The local queues in SQLite: SQS semantics, nothing lost across a reopen, one commit per turn, and
// another process (the admin CLI) on the same file seen by the owner without rescans.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { openQueueStore, type QueueStore } from "#adapters/local/queue.ts";
import { ManualClock } from "#test/support/clock.ts";

let dir: string;
let opened: QueueStore[];
const open = () => {
  const s = openQueueStore(join(dir, "queues", "queues.db"));
  opened.push(s);
  return s;
};
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "queues-"));
  opened = [];
});
afterEach(async () => {
  for (const s of opened) s.close();
  await rm(dir, { recursive: true, force: true });
});

describe("local queues", () => {
  test("a sent message survives closing and reopening the database", async () => {
    const first = open();
    const q = first.queue<{ n: number }>("q");
    await q.send({ n: 1 });
    await q.send({ n: 2 });
    first.close();
    const got = await open().queue<{ n: number }>("q").receive(10);
    expect(got.map((m) => m.body.n).sort()).toEqual([1, 2]);
    expect(got.every((m) => m.receiveCount === 1)).toBe(true);
    expect(got.map((m) => m.text).sort()).toEqual(['{"n":1}', '{"n":2}']);
  });

  test("delay hides a message until it is due", async () => {
    const clock = new ManualClock();
    const q = open().queue<string>("q", { clock });
    await q.send("later", { delaySeconds: 60 });
    expect(await q.receive()).toEqual([]);
    expect(await q.stats()).toMatchObject({ delayed: 1, visible: 0, total: 1 });
    clock.advance(60_000);
    expect((await q.receive()).map((m) => m.body)).toEqual(["later"]);
  });

  test("an undeleted message comes back after its visibility timeout; the first receipt handle is stale then", async () => {
    const clock = new ManualClock();
    const q = open().queue<string>("q", { clock, visibilityTimeoutSeconds: 30 });
    await q.send("m");
    const [first] = await q.receive();
    expect(await q.receive()).toEqual([]);
    expect(await q.stats()).toMatchObject({ inFlight: 1 });
    clock.advance(30_000);
    const [second] = await q.receive();
    expect(second?.receiveCount).toBe(2);
    await q.delete(first!.receiptHandle);
    expect(await q.size()).toBe(1);
    await q.delete(second!.receiptHandle);
    expect(await q.size()).toBe(0);
  });

  test("in-flight state survives a reopen, and releaseInFlight makes it visible but keeps delays", async () => {
    const clock = new ManualClock();
    const first = open();
    const q = first.queue<string>("q", { clock, visibilityTimeoutSeconds: 600 });
    await q.send("in flight");
    await q.send("delayed", { delaySeconds: 300 });
    await q.receive();
    first.close();
    const again = open().queue<string>("q", { clock, visibilityTimeoutSeconds: 600 });
    expect(await again.receive()).toEqual([]);
    expect(await again.releaseInFlight()).toBe(1);
    const got = await again.receive();
    expect(got.map((m) => [m.body, m.receiveCount])).toEqual([["in flight", 2]]);
  });

  test("after maxReceiveCount receives the message moves to the dead-letter queue; redrive brings it back", async () => {
    const clock = new ManualClock();
    const s = open();
    const dlq = s.queue<string>("dlq", { clock });
    const q = s.queue<string>("q", {
      clock,
      visibilityTimeoutSeconds: 10,
      maxReceiveCount: 3,
      deadLetter: "dlq",
    });
    await q.send("poison");
    for (let i = 1; i <= 3; i++) {
      expect((await q.receive())[0]?.receiveCount).toBe(i);
      clock.advance(10_000);
    }
    expect(await q.receive()).toEqual([]);
    expect(await q.size()).toBe(0);
    expect((await dlq.list()).map((m) => [m.body, m.receiveCount])).toEqual([["poison", 0]]);
    expect(await dlq.redriveTo(q)).toBe(1);
    expect(await dlq.size()).toBe(0);
    expect((await q.receive()).map((m) => [m.body, m.receiveCount])).toEqual([["poison", 1]]);
  });

  test("concurrent receivers never get the same message", async () => {
    const q = open().queue<number>("q");
    await Promise.all(Array.from({ length: 50 }, (_, i) => q.send(i)));
    const batches = await Promise.all(Array.from({ length: 6 }, () => q.receive(10)));
    const ids = batches.flat().map((m) => m.body);
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
  });

  test("everything asked in one turn commits together: one failure refuses the whole group", async () => {
    const s = open();
    const q = s.queue<string>("q");
    // Sends of one turn resolve together, in one transaction.
    const ids = await Promise.all([q.send("a"), q.send("b"), q.send("c")]);
    expect(new Set(ids).size).toBe(3);
    // A write that fails fails its whole turn: the send beside it is refused and not kept.
    const sent = q.send("lost with its group");
    const bad = s.service.request({ op: "bogus" } as never);
    await expect(bad).rejects.toThrow(/unknown queue operation bogus/);
    await expect(sent).rejects.toThrow(/could not write the queue/);
    expect(await q.size()).toBe(3);
    // The next turn is a group of its own.
    await q.send("d");
    expect(await q.size()).toBe(4);
  });

  test("waitForMessages wakes on a send, and on another process writing the same file", async () => {
    const q = open().queue<string>("q");
    const waiting = q.waitForMessages(10_000);
    setTimeout(() => void q.send("wake"), 20);
    await waiting;
    expect((await q.receive()).map((m) => m.body)).toEqual(["wake"]);

    // The CLI beside a running relay: its own connection; the owner sees the commit by data_version.
    const woke = q.waitForMessages(10_000).then(() => "woke");
    const cli = open();
    await cli.queue<string>("q").send("from the cli");
    expect(await woke).toBe("woke");
    expect((await q.receive()).map((m) => m.body)).toEqual(["from the cli"]);
    const keep = await cli.queue<string>("q").send("keep");
    const gone = await cli.queue<string>("q").send("gone");
    expect(await cli.queue("q").remove(gone)).toBe(true);
    expect(await cli.queue("q").remove(gone)).toBe(false);
    expect((await q.receive()).map((m) => [m.messageId, m.body])).toEqual([[keep, "keep"]]);
  });
});
