// Which queue commits are synced before their answer: a client's (a submission's 250 waits on it)
// always; the delivery pipeline's own steps never, yet they are in the file at once and synced soon after.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel } from "node:worker_threads";
import { afterEach, beforeEach, expect, test } from "vitest";
import { LocalQueue, openQueueStore } from "#adapters/local/queue.ts";
import { QueueDatabase } from "#adapters/local/queue-db.ts";
import { QueuePortClient, serve } from "#adapters/local/queue-port.ts";
import { type QueueRequest, QueueServer } from "#adapters/local/queue-server.ts";
import { waitFor } from "#test/support/relay-process.ts";

/**
 * The real queue database, recording for each commit whether the WAL was synced before its answer
 * ("synced") or not ("unsynced"), and the syncs run later on the thread pool (what a sync did cannot
 * be observed short of a power cut).
 */
class RecordingDatabase extends QueueDatabase {
  levels: string[] = [];
  laterSyncs = 0;
  constructor(path: string) {
    super(path);
    const exec = this.db.exec.bind(this.db);
    this.db.exec = (sql: string) => {
      if (sql === "COMMIT") this.levels.push("unsynced");
      return exec(sql);
    };
  }
  override syncLogNow(): void {
    super.syncLogNow();
    this.levels[this.levels.length - 1] = "synced";
  }
  override async syncLog(): Promise<void> {
    await super.syncLog();
    this.laterSyncs++;
  }
}

let dir: string;
let db: RecordingDatabase;
let server: QueueServer;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "queue-durability-"));
  db = new RecordingDatabase(join(dir, "queues.db"));
  server = new QueueServer(db);
});
afterEach(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

const step = (text: string): QueueRequest => ({
  op: "send",
  queue: "delivery",
  text,
  now: Date.now(),
  delayMs: 0,
  sync: false,
});

test("a client's send is synced before its answer; the pipeline's steps are answered before", async () => {
  const submission = new LocalQueue<string>(server, "submission");
  await submission.send("from a client");
  expect(db.levels.at(-1)).toBe("synced");

  await server.request(step('"a delivery job"'));
  expect(db.levels.at(-1)).toBe("unsynced");

  // One turn with both: one commit, and it fsyncs, since a client waits on it.
  const before = db.levels.length;
  await Promise.all([server.request(step('"job 2"')), submission.send("second client")]);
  expect(db.levels.slice(before)).toEqual(["synced"]);
});

test("a step answered without an fsync is in the file at once and fsynced shortly after", async () => {
  await server.request(step('"job"'));
  // Another connection (the CLI, or the relay after kill -9) reads it from the file right away.
  const cli = openQueueStore(join(dir, "queues.db"));
  try {
    expect((await cli.queue("delivery").list()).map((m) => m.body)).toEqual(["job"]);
  } finally {
    cli.close();
  }
  await waitFor("the WAL fsynced after the deferred commit", () => db.laterSyncs === 1, 5000);

  // A client's commit right after a step fsyncs the WAL itself: no later fsync is needed.
  await server.request(step('"job 2"'));
  await new LocalQueue<string>(server, "submission").send("client");
  await new Promise((r) => setTimeout(r, 600));
  expect(db.laterSyncs).toBe(1);
});

test("a port served with deferSync (the pipeline's) is answered before the sync, another port after", async () => {
  const pipeline = new MessageChannel();
  const listener = new MessageChannel();
  serve(server, pipeline.port2, { deferSync: true });
  serve(server, listener.port2);
  const viaPipeline = new QueuePortClient(pipeline.port1);
  const viaListener = new QueuePortClient(listener.port1);
  try {
    await new LocalQueue<string>(viaPipeline, "delivery").send("job");
    expect(db.levels.at(-1)).toBe("unsynced");
    await new LocalQueue<string>(viaListener, "submission").send("message");
    expect(db.levels.at(-1)).toBe("synced");
  } finally {
    viaPipeline.close();
    viaListener.close();
    pipeline.port2.close();
    listener.port2.close();
  }
});

test("commit notices reach only a port that waits for messages, not one that only sends", async () => {
  const sender = new MessageChannel();
  const waiter = new MessageChannel();
  serve(server, sender.port2);
  serve(server, waiter.port2);
  const notices = { sender: 0, waiter: 0 };
  sender.port1.on("message", (m: object) => "available" in m && notices.sender++);
  waiter.port1.on("message", (m: object) => "available" in m && notices.waiter++);
  const viaSender = new QueuePortClient(sender.port1);
  const viaWaiter = new QueuePortClient(waiter.port1);
  try {
    const waiting = new LocalQueue<string>(viaWaiter, "submission").waitForMessages(5000);
    await new LocalQueue<string>(viaSender, "submission").send("message");
    await waiting;
    await new LocalQueue<string>(viaSender, "submission").send("second");
    await waitFor("the waiting port's notices", () => notices.waiter >= 2, 5000);
    expect(notices.sender).toBe(0);
  } finally {
    viaSender.close();
    viaWaiter.close();
    sender.port2.close();
    waiter.port2.close();
  }
});

test("a failed sync refuses the clients of its group, not the steps that never waited for it", async () => {
  const failing = new (class extends QueueDatabase {
    failNext = true;
    override syncLogNow(): void {
      if (this.failNext) {
        this.failNext = false;
        throw new Error("EIO: i/o error, fdatasync");
      }
      super.syncLogNow();
    }
  })(join(dir, "failing.db"));
  const queues = new QueueServer(failing);
  try {
    const client = new LocalQueue<string>(queues, "submission").send("message");
    const pipelineStep = queues.request(step('"job"'));
    await expect(client).rejects.toThrow(/could not write the queue: EIO/);
    await expect(pipelineStep).resolves.toEqual(expect.any(String));
    // The sender was told to try again; the next send is synced and answered.
    await expect(new LocalQueue<string>(queues, "submission").send("again")).resolves.toEqual(
      expect.any(String),
    );
  } finally {
    queues.close();
  }
});
