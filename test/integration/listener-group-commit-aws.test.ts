// The listener on the SQS adapter (fauxqs) shares SendMessageBatch requests among concurrent sessions: each client hears 250 only for its own stored entry.
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { SqsQueue } from "#adapters/aws/sqs.ts";
import { MAX_BATCH_PAYLOAD_BYTES, SqsGroupCommit } from "#adapters/aws/sqs-group-commit.ts";
import { MemoryMessageStore } from "#adapters/memory/message-store.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import type { SubmittedMessage } from "#core/message.ts";
import { RecordCache } from "#core/records/cache.ts";
import { readBody } from "#core/usecases/body.ts";
import { createListener, type Listener } from "#listener/server.ts";
import { type AwsEmulators, endpointOf, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { acceptedDomain, receiveConnector } from "#test/support/listener.ts";
import { RawSmtpClient, type SmtpReplyLines } from "#test/support/smtp-client.ts";

interface BatchCall {
  entries: number;
  payloadBytes: number;
  failed: number;
}

let emu: AwsEmulators;
let sqs: SQSClient;
/** Every SendMessageBatch the listener's client made: recorded by an SDK middleware, the request itself is real. */
const calls: BatchCall[] = [];
let listener: Listener | undefined;
const clients: RawSmtpClient[] = [];

beforeAll(async () => {
  emu = await startAwsEmulators();
  sqs = new SQSClient({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    endpoint: await endpointOf(emu.sqs),
    maxAttempts: 1,
  });
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === "SendMessageBatchCommand") {
        const entries = (args.input as { Entries: Array<{ MessageBody: string }> }).Entries;
        calls.push({
          entries: entries.length,
          payloadBytes: entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0),
          failed: (out.output as { Failed?: unknown[] }).Failed?.length ?? 0,
        });
      }
      return out;
    },
    { step: "initialize", name: "recordBatches" },
  );
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await listener?.stop();
  listener = undefined;
  calls.length = 0;
});

afterAll(async () => {
  sqs?.destroy();
  await emu?.stop();
});

/** A queue, with SQS's MaximumMessageSize when given, and the listener (listener/main.ts's wiring) queuing to it. */
async function start(maxMessageSize?: number) {
  const name = `submission-${calls.length}-${Date.now()}`;
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      ...(maxMessageSize ? { Attributes: { MaximumMessageSize: String(maxMessageSize) } } : {}),
    }),
  );
  const queue = new SqsQueue<SubmittedMessage>({ client: sqs, queueUrl: created.QueueUrl! });
  const records = new MemoryRecordStore([
    receiveConnector("Default", { maxInboundConnectionPerSource: 50 }),
    acceptedDomain("contoso.com"),
  ]);
  const quiet = { info() {}, warn() {}, error() {} };
  const messageStore = new MemoryMessageStore();
  listener = createListener({
    records: new RecordCache(records, { ttlMs: 60_000 }),
    queue,
    messageStore,
    logger: quiet,
    protocolLog: { write() {} },
    config: { hostName: "relay.test", bindPorts: { "25": 0 }, reloadIntervalMs: 60_000 },
  });
  await listener.start();
  const port = listener.addresses()[0]!.actualPort;
  return { queue, port, messageStore };
}

/** Sessions brought up to the point after DATA, then every message's final dot written at once. */
async function sendTogether(
  port: number,
  bodies: Array<string | Buffer>,
): Promise<SmtpReplyLines[]> {
  const sessions = await Promise.all(
    bodies.map(async () => {
      const c = await RawSmtpClient.connect({ host: "127.0.0.1", port });
      clients.push(c);
      await c.read();
      await c.command("EHLO app.example");
      await c.command("MAIL FROM:<app@example.net>");
      expect((await c.command("RCPT TO:<info@contoso.com>")).code).toBe(250);
      expect((await c.command("DATA")).code).toBe(354);
      return c;
    }),
  );
  for (const [i, c] of sessions.entries()) c.write(Buffer.concat([Buffer.from(bodies[i]!), DOT]));
  return Promise.all(sessions.map((c) => c.read()));
}

const DOT = Buffer.from("\r\n.\r\n");

const message = (n: number, size = 0) =>
  `Subject: message ${n}\r\n\r\n${"x".repeat(Math.max(0, size - 30))} ${n}`;

async function drain(queue: SqsQueue<SubmittedMessage>): Promise<SubmittedMessage[]> {
  const all: SubmittedMessage[] = [];
  for (let empty = 0; empty < 2; ) {
    const got = await queue.receive(10);
    if (got.length === 0) empty++;
    all.push(...got.map((m) => m.body));
  }
  return all;
}

test("ten concurrent sessions share batches; every client hears 250 and every message is queued", async () => {
  const { queue, port } = await start();
  const replies = await sendTogether(
    port,
    Array.from({ length: 10 }, (_, i) => message(i, 2_000)),
  );
  for (const r of replies) expect(r.text).toMatch(/^250 2\.6\.0 /);
  expect(calls.reduce((n, c) => n + c.entries, 0)).toBe(10);
  expect(calls.length).toBeLessThan(10);
  expect(Math.max(...calls.map((c) => c.entries))).toBeGreaterThan(1);
  const queued = await drain(queue);
  expect(queued.map((m) => m.subject).sort()).toEqual(
    Array.from({ length: 10 }, (_, i) => `message ${i}`).sort(),
  );
});

test("every message's bytes reach the queue unchanged: quotes, backslashes, 8-bit, inline and claim-checked", async () => {
  const { queue, port, messageStore } = await start();
  const eightBit = Buffer.from([0xe9, 0xff, 0x80, 0xa0, 0x7f, 0x09]);
  const bodies = [
    Buffer.from('Subject: "quoted" \\ back\\slash\r\n\r\n{"json":"\\u0041"}\t\\\\\r\nend'),
    Buffer.concat([Buffer.from("Subject: 8bit\r\n\r\n"), eightBit, Buffer.from("\r\nend")]),
    // Over the 192 KiB claim-check threshold: the body goes to the store, the queue carries a key.
    Buffer.from(`Subject: large\r\n\r\n${'"\\x'.repeat(70_000)}\r\nend`),
  ];
  const replies = await sendTogether(port, bodies);
  for (const r of replies) expect(r.text).toMatch(/^250 2\.6\.0 /);
  const queued = await drain(queue);
  const bySubject = new Map(queued.map((m) => [m.subject, m]));
  for (const [i, subject] of ['"quoted" \\ back\\slash', "8bit", "large"].entries()) {
    const m = bySubject.get(subject);
    expect(m, subject).toBeDefined();
    const raw = Buffer.from(await readBody(messageStore, m!.body));
    // The listener adds its Received field on top; then the client's bytes up to the final dot.
    const sent = Buffer.concat([bodies[i]!, Buffer.from("\r\n")]);
    expect(raw.subarray(raw.length - sent.length).equals(sent), subject).toBe(true);
    expect(raw.toString("latin1")).toMatch(/^Received: from app\.example /);
    expect(m!.size).toBe(raw.length);
  }
  expect("storeKey" in bySubject.get("large")!.body).toBe(true);
  expect("text" in bySubject.get('"quoted" \\ back\\slash')!.body).toBe(true);
  expect("inline" in bySubject.get("8bit")!.body).toBe(true);
});

test("an entry SQS refuses fails alone: only its client hears 451 4.3.0, the rest of its batch is queued", async () => {
  // SQS refuses a message over the queue's MaximumMessageSize as a Failed entry of the batch.
  const { queue, port } = await start(4_096);
  const bodies = [message(0, 1_000), message(1, 1_000), message(2, 8_000), message(3, 1_000)];
  const replies = await sendTogether(port, bodies);
  expect(replies[2]?.text).toBe("451 4.3.0 Could not queue the message; try again later");
  for (const i of [0, 1, 3]) expect(replies[i]?.text).toMatch(/^250 2\.6\.0 /);
  // SQS failed that entry, not a request: no other entry was refused.
  expect(calls.reduce((n, c) => n + c.failed, 0)).toBe(1);
  const queued = await drain(queue);
  expect(queued.map((m) => m.subject).sort()).toEqual(["message 0", "message 1", "message 3"]);
});

test("messages that together pass SQS's 1 MiB batch payload go in more than one request", async () => {
  const { queue, port } = await start();
  // 180 kB each travels inline (under the 192 KiB claim-check threshold); eight of them are ~1.4 MB.
  const replies = await sendTogether(
    port,
    Array.from({ length: 8 }, (_, i) => message(i, 180_000)),
  );
  for (const r of replies) expect(r.text).toMatch(/^250 2\.6\.0 /);
  expect(calls.reduce((n, c) => n + c.entries, 0)).toBe(8);
  expect(calls.length).toBeGreaterThan(1);
  for (const c of calls) expect(c.payloadBytes).toBeLessThanOrEqual(MAX_BATCH_PAYLOAD_BYTES);
  expect(await drain(queue)).toHaveLength(8);
});

test("a batch over the payload limit splits in send order; each send resolves with its own id", async () => {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: `split-${Date.now()}` }));
  const group = new SqsGroupCommit({
    client: sqs,
    queueUrl: created.QueueUrl!,
    maxBatchBytes: 10_000,
  });
  const ids = await Promise.all(
    Array.from({ length: 5 }, (_, i) => group.send(`${i}`.padEnd(4_000, "."), 0)),
  );
  expect(new Set(ids).size).toBe(5);
  expect(calls.map((c) => c.entries)).toEqual([2, 2, 1]);
});

test("sends of one turn share a batch; the entry SQS refuses rejects alone, the others resolve", async () => {
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: `refuse-${Date.now()}`,
      Attributes: { MaximumMessageSize: "1024" },
    }),
  );
  const group = new SqsGroupCommit({ client: sqs, queueUrl: created.QueueUrl! });
  const results = await Promise.allSettled([
    group.send("small one", 0),
    group.send("x".repeat(2_000), 0),
    group.send("small two", 0),
  ]);
  expect(calls).toEqual([{ entries: 3, payloadBytes: 2_018, failed: 1 }]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  const refused = (results[1] as PromiseRejectedResult).reason as Error;
  expect(refused.name).toBe("QueueUnavailableError");
  expect(refused.message).toMatch(/entry refused: InvalidParameterValue/);
});

test("a request SQS refuses as a whole rejects every send of the batch with QueueUnavailableError", async () => {
  const group = new SqsGroupCommit({
    client: sqs,
    queueUrl: `${await endpointOf(emu.sqs)}/000000000000/no-such-queue`,
  });
  const results = await Promise.allSettled([group.send("a", 0), group.send("b", 0)]);
  for (const r of results) {
    expect(r.status).toBe("rejected");
    expect((r as PromiseRejectedResult).reason.name).toBe("QueueUnavailableError");
  }
});
