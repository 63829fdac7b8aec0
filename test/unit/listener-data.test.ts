// DATA handling of the listener: smuggling-safe line endings, size after the final dot, hop count, headers, Received.
import { describe, expect, test } from "vitest";
import { MemoryMessageStore } from "#adapters/memory/message-store.ts";
import { MemoryQueue } from "#adapters/memory/queue.ts";
import type { SubmittedMessage } from "#core/message.ts";
import {
  hasBareLineEnding,
  MessageDataReader,
  readHeaderFacts,
  TRACE_FIELD_ROOM,
} from "#listener/data.ts";
import { JsonLinesProtocolLog, redactClientLine } from "#listener/protocol-log.ts";
import { receivedHeader } from "#listener/received.ts";
import { submitMessage } from "#listener/submit.ts";

const b = (s: string) => Buffer.from(s, "latin1");
const limits = { maxSize: 1000, maxHopCount: 3 };

function read(chunks: string[], l = limits) {
  const r = new MessageDataReader(l);
  for (const c of chunks) r.push(b(c));
  return r.finish();
}

describe("line endings", () => {
  test.each([
    ["CRLF only", ["a\r\nb\r\n"], false],
    ["CRLF split across chunks", ["a\r", "\nb\r\n"], false],
    ["bare LF", ["a\nb\r\n"], true],
    ["bare CR", ["a\rb\r\n"], true],
    // The sequences of SMTP smuggling: an end-of-data another MTA might accept.
    ["LF.CRLF", ["a\r\n\n.\r\nMAIL FROM:<x@y>\r\n"], true],
    ["CRLF.LF", ["a\r\n.\nMAIL FROM:<x@y>\r\n"], true],
    ["CR.CR", ["a\r.\rMAIL FROM:<x@y>\r\n"], true],
    ["LF at the start of a chunk after a chunk ending in CR is fine", ["x\r", "\n"], false],
    ["CR at the end of one chunk then not LF", ["x\r", "y\r\n"], true],
    ["LF first in a chunk after a chunk not ending in CR", ["x", "\ny\r\n"], true],
  ])("%s", (_name, chunks, bare) => {
    const r = read(chunks);
    if (bare) expect(r).toMatchObject({ ok: false, reply: { code: 554, enhanced: "5.6.0" } });
    else expect(r.ok).toBe(true);
  });

  test.each([
    ["a lone CR chunk, then its LF", ["x", "\r", "\n", "y\r\n"], false],
    ["CR then CR across chunks", ["x\r", "\r\n"], true],
    ["the LF after a split CR, then a bare LF", ["x\r", "\n\n"], true],
    ["CR CR at the end of a chunk", ["x\r\r", "\n"], true],
  ])("%s", (_name, chunks, bare) => {
    expect(read(chunks).ok).toBe(!bare);
  });

  test("agrees with a byte-by-byte reading on random CR/LF mixes split at random", () => {
    // A seeded generator, so a failure repeats.
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let round = 0; round < 2_000; round++) {
      const bytes = Buffer.from(
        Array.from({ length: 1 + (next() % 12) }, () => [0x0d, 0x0a, 0x61][next() % 3]!),
      );
      const bare = bytes.some(
        (c, i) => (c === 0x0a && bytes[i - 1] !== 0x0d) || (c === 0x0d && bytes[i + 1] !== 0x0a),
      );
      const cuts = [
        0,
        ...[next() % bytes.length, next() % bytes.length].sort((a, z) => a - z),
        bytes.length,
      ];
      const chunks = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end).toString("latin1"));
      expect(read(chunks).ok, JSON.stringify(chunks)).toBe(!bare);
    }
  });

  test("a trailing CR with nothing after it is bare", () => {
    expect(hasBareLineEnding(b("x\r"))).toBe(false);
    expect(read(["x\r"])).toMatchObject({ ok: false, reply: { enhanced: "5.6.0" } });
  });
});

describe("size", () => {
  test("exactly maxSize is accepted", () => {
    const r = read(["x".repeat(998), "\r\n"]);
    expect(r).toMatchObject({ ok: true, size: 1000 });
  });

  test("one byte more is refused 552 5.3.4, and nothing over the limit is kept", () => {
    const reader = new MessageDataReader(limits);
    reader.push(b("x".repeat(999)));
    reader.push(b("\r\n"));
    expect(reader.size).toBe(1001);
    expect(reader.finish()).toMatchObject({ ok: false, reply: { code: 552, enhanced: "5.3.4" } });
  });
});

describe("one copy of the message", () => {
  const chunks = ['Subject: "a"\r\n', "\r\nbody \\ \xe9\xff\r\n", "more\r\n"];
  const whole = b(chunks.join(""));

  test("the body is the chunks joined; prepend puts a field on top and leaves the body as it was", () => {
    const r = read(chunks);
    if (!r.ok) throw new Error("refused");
    expect(r.body.equals(whole)).toBe(true);
    const field = "Received: from a ([192.0.2.1])\r\n\tby b; Tue, 24 Nov 2026 10:00:00 +0000\r\n";
    const withField = r.prepend(field);
    expect(withField.equals(Buffer.concat([b(field), whole]))).toBe(true);
    expect(r.body.equals(whole)).toBe(true);
  });

  test("a field longer than the room in front still comes out whole (a copy)", () => {
    const r = read(chunks);
    if (!r.ok) throw new Error("refused");
    const field = `X-Long: ${"y".repeat(TRACE_FIELD_ROOM + 10)}\r\n`;
    expect(r.prepend(field).equals(Buffer.concat([b(field), whole]))).toBe(true);
  });

  test("an empty message", () => {
    const r = read([]);
    if (!r.ok) throw new Error("refused");
    expect(r.body.length).toBe(0);
    expect(r.prepend("Received: x\r\n").toString("latin1")).toBe("Received: x\r\n");
  });
});

describe("hop count", () => {
  const received = (n: number) =>
    "Received: from a by b; Tue, 24 Nov 2026 10:00:00 +0000\r\n".repeat(n);
  test("maxHopCount Received fields pass", () => {
    expect(read([`${received(3)}Subject: x\r\n\r\nbody\r\n`]).ok).toBe(true);
  });
  test("one more is a loop: 554 5.4.6", () => {
    expect(read([`${received(4)}Subject: x\r\n\r\nbody\r\n`])).toMatchObject({
      ok: false,
      reply: { code: 554, enhanced: "5.4.6" },
    });
  });
  test("Received lines in the body do not count", () => {
    expect(read([`Subject: x\r\n\r\n${received(10)}`]).ok).toBe(true);
  });
});

describe("header facts", () => {
  test("folded Subject, Message-ID, case-insensitive names, first of each", () => {
    const facts = readHeaderFacts(
      b(
        "received: one\r\nRECEIVED: two\r\n\tcontinued\r\nSubject: Quarterly\r\n report\r\nmessage-id: <a@b>\r\nSubject: second\r\n\r\nMessage-ID: <body@x>\r\n",
      ),
    );
    expect(facts).toEqual({ receivedCount: 2, subject: "Quarterly report", messageId: "<a@b>" });
  });
  test("a message with no header section", () => {
    expect(readHeaderFacts(b("\r\nSubject: not a header\r\n"))).toEqual({ receivedCount: 0 });
  });
});

test("the Received field names the client as it connected and cannot be broken by its HELO", () => {
  const text = receivedHeader({
    helo: "evil)\r\nX-Injected:(",
    clientIp: "2001:db8::7",
    byHost: "relay.contoso.com",
    receiveConnector: 'Client "Frontend" (587)',
    protocol: "ESMTPSA",
    id: "20261124T160512Z-3f9c2a1b7d4e",
    tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" },
    at: new Date("2026-11-24T16:05:12Z"),
  });
  expect(text).toBe(
    "Received: from evil???X-Injected:? ([IPv6:2001:db8::7])\r\n" +
      '\tby relay.contoso.com (connector-relay; connector="Client ?Frontend? ?587?") with ESMTPSA id 20261124T160512Z-3f9c2a1b7d4e\r\n' +
      "\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384);\r\n" +
      "\tTue, 24 Nov 2026 16:05:12 +0000\r\n",
  );
});

test.each([
  ["AUTH PLAIN AHVzZXIAc2VjcmV0", false, "AUTH PLAIN ****"],
  ["auth login dXNlcg==", false, "AUTH login ****"],
  ["AUTH LOGIN", false, "AUTH LOGIN"],
  ["c2VjcmV0", true, "****"],
  ["MAIL FROM:<a@b.c>", false, "MAIL FROM:<a@b.c>"],
])("protocol log line %j", (line, inSasl, logged) => {
  expect(redactClientLine(line, inSasl)).toBe(logged);
});

test("the protocol log writes one JSON object per line", () => {
  const lines: string[] = [];
  const log = new JsonLinesProtocolLog({ write: (text: string) => lines.push(text) });
  const entry = {
    at: "2026-11-24T16:05:12.000Z",
    connector: "Default",
    session: "abc",
    sequence: 0,
    local: "10.0.0.4:25",
    remote: "[2001:db8::7]:40000",
    event: "<" as const,
    data: 'MAIL FROM:<"odd\\"@contoso.com>',
  };
  log.write(entry);
  log.write({ ...entry, sequence: 1, event: ">", data: "250 2.1.0 Accepted" });
  expect(lines.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
  expect(lines.map((l) => JSON.parse(l))).toEqual([
    entry,
    { ...entry, sequence: 1, event: ">", data: "250 2.1.0 Accepted" },
  ]);
});

describe("submission", () => {
  const base = {
    id: "20261124T160512Z-000000000001",
    receivedAt: new Date("2026-11-24T16:05:12Z"),
    envelope: { mailFrom: "a@contoso.com", rcptTo: ["b@fabrikam.com"] },
    origin: {
      type: "smtp" as const,
      receiveConnector: "Default",
      clientIp: "10.0.0.5",
      clientHelo: "app",
      tls: false,
    },
  };

  test("a body up to the inline limit travels in the queue message", async () => {
    const queue = new MemoryQueue<SubmittedMessage>();
    const store = new MemoryMessageStore();
    const r = await submitMessage(
      { queue, messageStore: store, inlineBodyLimit: 5 },
      { ...base, body: b("hello") },
    );
    expect(r.ok).toBe(true);
    // Plain US-ASCII travels as text (core/usecases/body.ts inlineBody).
    expect(queue.peek()[0]?.body.body).toEqual({ text: "hello" });
    expect(store.bodies.size).toBe(0);
  });

  test("a larger body goes to the store under the message id", async () => {
    const queue = new MemoryQueue<SubmittedMessage>();
    const store = new MemoryMessageStore();
    await submitMessage(
      { queue, messageStore: store, inlineBodyLimit: 4 },
      { ...base, body: b("hello") },
    );
    expect(queue.peek()[0]?.body).toMatchObject({ body: { storeKey: base.id }, size: 5 });
    expect(Buffer.from(store.bodies.get(base.id) ?? []).toString()).toBe("hello");
  });

  test("a queue failure after the store put deletes the body again", async () => {
    const queue = new MemoryQueue<SubmittedMessage>();
    queue.failSends = new Error("SQS unavailable");
    const store = new MemoryMessageStore();
    const r = await submitMessage(
      { queue, messageStore: store, inlineBodyLimit: 4 },
      { ...base, body: b("hello") },
    );
    expect(r).toMatchObject({ ok: false, stage: "queue" });
    expect(store.bodies.size).toBe(0);
    expect(queue.size).toBe(0);
  });

  test("a store failure never reaches the queue", async () => {
    const queue = new MemoryQueue<SubmittedMessage>();
    const store = new MemoryMessageStore();
    store.put = () => Promise.reject(new Error("S3 unavailable"));
    const r = await submitMessage(
      { queue, messageStore: store, inlineBodyLimit: 4 },
      { ...base, body: b("hello") },
    );
    expect(r).toMatchObject({ ok: false, stage: "store" });
    expect(queue.size).toBe(0);
  });
});
