// The SendMessageBatch body written with JSON.stringify is byte for byte the body the SDK's own serialiser writes, and the rest of the request is the SDK's.
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, test } from "vitest";
import { encodeBody } from "#adapters/aws/sqs.ts";
import {
  type BatchEntry,
  sendMessageBatchBody,
  sendPreSerializedBatch,
} from "#adapters/aws/sqs-batch-request.ts";
import { inlineBody } from "#core/usecases/body.ts";

const QUEUE_URL = "http://127.0.0.1:9/000000000000/submission";

interface Captured {
  input: Record<string, unknown>;
  headers: Record<string, string>;
  path: string;
  body: Buffer;
}

const clients: SQSClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

/**
 * A real SQS client whose last middleware (after signing) records the request and answers in place
 * of the network: no SQS exists in a unit test (the integration tests send to fauxqs). Everything before it (serialiser, content length,
 * SigV4) is the SDK's.
 */
function capturingClient(captured: Captured[], cacheMiddleware = false): SQSClient {
  const client = new SQSClient({
    cacheMiddleware,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    endpoint: "http://127.0.0.1:9",
    md5: false,
    maxAttempts: 1,
  });
  clients.push(client);
  // What every middleware before the serialiser sees (the meter, the md5 check).
  const inputs: Record<string, unknown>[] = [];
  client.middlewareStack.add(
    (next) => (args) => {
      inputs.push(structuredClone(args.input) as Record<string, unknown>);
      return next(args);
    },
    { step: "initialize", name: "captureInput" },
  );
  client.middlewareStack.add(
    (_next, _context) => async (args) => {
      const request = args.request as {
        headers: Record<string, string>;
        path: string;
        body: Uint8Array | string;
      };
      captured.push({
        input: inputs.shift() ?? {},
        headers: request.headers,
        path: request.path,
        body: Buffer.from(request.body),
      });
      return { output: { Successful: [], Failed: [], $metadata: {} }, response: {} };
    },
    { step: "finalizeRequest", name: "captureRequest", priority: "low" },
  );
  return client;
}

/** Queue-message texts as the listener makes them: every kind of character SQS and JSON treat apart. */
const texts: Record<string, string> = {
  plain: encodeBody({ body: inlineBody(Buffer.from("Subject: hi\r\n\r\nplain text\r\n")) }),
  quotesAndBackslashes: encodeBody({
    body: inlineBody(Buffer.from('Subject: "q"\r\n\r\nC:\\path\\"file"\t\\\\\r\n')),
  }),
  eightBit: encodeBody({
    body: inlineBody(Buffer.from([0x53, 0x3a, 0x20, 0xe9, 0xff, 0x80, 0x0d, 0x0a])),
  }),
  unicodeSubject: encodeBody({ subject: "Grüße — 日本語 😀 \u2028 \uFFFE \uFFFF", id: "x" }),
  controlAndLoneSurrogate: encodeBody({ subject: "\u0000\u0001\b\f\u001f\u007f \uD800 end" }),
  empty: "",
};

function entriesOf(bodies: string[]): BatchEntry[] {
  return bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody, DelaySeconds: i % 3 }));
}

describe("sendMessageBatchBody", () => {
  test.each(Object.entries(texts))(
    "%s: the same bytes as the SDK's serialiser",
    async (_, text) => {
      const captured: Captured[] = [];
      const client = capturingClient(captured);
      const entries = entriesOf([text, `${text}${text}`]);
      await client.send(new SendMessageBatchCommand({ QueueUrl: QUEUE_URL, Entries: entries }));
      const sdk = captured[0]!.body;
      const ours = sendMessageBatchBody(QUEUE_URL, entries);
      expect(ours.toString("utf8")).toBe(sdk.toString("utf8"));
      expect(ours.equals(sdk)).toBe(true);
      // And what SQS reads back is each text unchanged.
      const parsed = JSON.parse(ours.toString("utf8")) as { Entries: BatchEntry[] };
      expect(parsed.Entries.map((e) => e.MessageBody)).toEqual([text, `${text}${text}`]);
    },
  );
});

describe("sendPreSerializedBatch", () => {
  test("the request is the SDK's (path, headers, signature) with our body; middleware sees the real input", async () => {
    const ours: Captured[] = [];
    const sdk: Captured[] = [];
    const entries = entriesOf(Object.values(texts));
    await sendPreSerializedBatch(capturingClient(ours), QUEUE_URL, entries);
    await capturingClient(sdk).send(
      new SendMessageBatchCommand({ QueueUrl: QUEUE_URL, Entries: entries }),
    );
    const [a, b] = [ours[0]!, sdk[0]!];
    expect(a.body.equals(b.body)).toBe(true);
    expect(a.path).toBe(b.path);
    expect(a.headers["content-length"]).toBe(String(b.body.length));
    expect(a.headers["x-amz-target"]).toBe("AmazonSQS.SendMessageBatch");
    expect(a.headers["content-type"]).toBe(b.headers["content-type"]);
    // Signed over the same payload: same signed headers, a signature over our bytes.
    expect(a.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\//);
    expect(a.headers.authorization?.replace(/Signature=\w+/, "")).toBe(
      b.headers.authorization?.replace(/Signature=\w+/, ""),
    );
    expect((a.input.Entries as BatchEntry[]).map((e) => e.MessageBody)).toEqual(
      Object.values(texts),
    );
  });

  test("a client that caches its middleware (first command's handler reused) still sends each batch's own body", async () => {
    const captured: Captured[] = [];
    const client = capturingClient(captured, true);
    const first = entriesOf([texts.plain!]);
    const second = entriesOf([texts.quotesAndBackslashes!, texts.eightBit!]);
    await sendPreSerializedBatch(client, QUEUE_URL, first);
    await sendPreSerializedBatch(client, QUEUE_URL, second);
    expect(captured.map((c) => c.body.toString("utf8"))).toEqual([
      sendMessageBatchBody(QUEUE_URL, first).toString("utf8"),
      sendMessageBatchBody(QUEUE_URL, second).toString("utf8"),
    ]);
  });

  test("an entry member the body would not carry is refused, not dropped", async () => {
    const captured: Captured[] = [];
    const client = capturingClient(captured);
    const command = sendPreSerializedBatch(client, QUEUE_URL, [
      { Id: "0", MessageBody: "x", DelaySeconds: 0, MessageGroupId: "g" } as BatchEntry,
    ]);
    await expect(command).rejects.toThrow(/MessageGroupId is not written here/);
    expect(captured).toHaveLength(0);
  });
});
