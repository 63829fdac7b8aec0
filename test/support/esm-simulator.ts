// A Lambda event source mapping for SQS, simulated against a real SQS API (fauxqs): pollers receive
// batches with the queue's own visibility timeout, invoke the handler, delete what succeeded and
// leave batch item failures to come back (and, past maxReceiveCount, to be redriven to the DLQ).
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { lambdaContext } from "#adapters/sqs-event.ts";

export type BatchHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | undefined>;

export interface EventSourceMappingOptions {
  name: string;
  client: SQSClient;
  queueUrl: string;
  /** The function (one execution environment for the mapping's lifetime), or see `environment`. */
  handler?: BatchHandler;
  /**
   * Builds a fresh execution environment (the handler with its module state: caches, in-flight
   * sets). When given, a killed invocation's environment is discarded and the next invocation of
   * that poller gets a new one, as Lambda restarts the runtime after a timeout.
   */
  environment?: () => BatchHandler;
  /** @default 10 */
  batchSize?: number;
  /** Batches in flight at once (the mapping's maximum concurrency). @default 2 */
  maxConcurrency?: number;
  /**
   * The function timeout: the handler's context deadline, after which the invocation is killed as
   * Lambda kills it (the whole batch fails and comes back after the visibility timeout). @default 30
   */
  functionTimeoutSeconds?: number;
}

export interface Invocation {
  messageIds: string[];
  receiveCounts: number[];
  /** Ids the function reported as failed (all of them when it threw or answered invalidly). */
  failed: string[];
  error?: unknown;
  /** The handler outran the function timeout and was killed. */
  timedOut?: boolean;
}

/** Lambda's answer for a killed invocation ("Task timed out after 4.00 seconds"). */
export class FunctionTimeoutError extends Error {
  override readonly name = "FunctionTimeoutError";
}

/**
 * Invokes the handler with a context whose deadline is the function timeout, and kills it there:
 * the answer is a FunctionTimeoutError, whatever the handler does later. Lambda would also stop the
 * handler's code; in one process it cannot be stopped, so its run is abandoned: its promise is
 * ignored, its response never reaches the queue (no deletes), and only writes it makes after the
 * kill could land, which the peers in the tests keep from completing (a stalled peer never answers).
 */
export async function invokeWithTimeout(
  handler: BatchHandler,
  event: SQSEvent,
  name: string,
  timeoutSeconds: number,
): Promise<SQSBatchResponse | undefined> {
  const ms = timeoutSeconds * 1000;
  const run = handler(event, lambdaContext(name, Date.now() + ms));
  run.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new FunctionTimeoutError(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([run, killed]);
  } finally {
    clearTimeout(timer);
  }
}

export interface EventSourceMapping {
  readonly invocations: Invocation[];
  stop(): Promise<void>;
}

function toRecord(m: Message, queueArn: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? "",
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? "000000000000",
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(":")[3] ?? "us-east-1",
  };
}

/**
 * The partial batch response rules of Lambda: listed ids fail; an empty or unknown itemIdentifier,
 * or a thrown error, fails the whole batch (AWS: "Lambda treats the batch as a complete failure").
 */
export function failedIds(records: SQSRecord[], response: SQSBatchResponse | undefined): string[] {
  const ids = new Set(records.map((r) => r.messageId));
  const listed = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
  if (listed.some((id) => !id || !ids.has(id))) return [...ids];
  return listed;
}

export async function startEventSourceMapping(
  options: EventSourceMappingOptions,
): Promise<EventSourceMapping> {
  const { client, queueUrl } = options;
  const attrs = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  const queueArn =
    attrs.Attributes?.QueueArn ?? `arn:aws:sqs:us-east-1:000000000000:${options.name}`;
  const invocations: Invocation[] = [];
  let running = true;

  async function poll(): Promise<void> {
    let handler = options.environment?.() ?? options.handler;
    if (!handler) throw new Error("startEventSourceMapping needs a handler or an environment");
    while (running) {
      let messages: Message[] = [];
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: options.batchSize ?? 10,
            // The mapping uses the queue's VisibilityTimeout; it long-polls, here briefly so stop() is quick.
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ["All"],
          }),
        );
        messages = out.Messages ?? [];
      } catch {
        if (running) await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (messages.length === 0) continue;
      const records = messages.map((m) => toRecord(m, queueArn));
      const invocation: Invocation = {
        messageIds: records.map((r) => r.messageId),
        receiveCounts: records.map((r) => Number(r.attributes.ApproximateReceiveCount)),
        failed: [],
      };
      try {
        const response = await invokeWithTimeout(
          handler,
          { Records: records },
          options.name,
          options.functionTimeoutSeconds ?? 30,
        );
        invocation.failed = failedIds(records, response);
      } catch (error) {
        invocation.failed = records.map((r) => r.messageId);
        invocation.error = error;
        if (error instanceof FunctionTimeoutError) {
          invocation.timedOut = true;
          if (options.environment) handler = options.environment();
        }
      }
      invocations.push(invocation);
      const done = records.filter((r) => !invocation.failed.includes(r.messageId));
      if (done.length)
        await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
          }),
        );
    }
  }

  const pollers = Array.from({ length: options.maxConcurrency ?? 2 }, () => poll());
  return {
    invocations,
    async stop() {
      running = false;
      await Promise.all(pollers);
    },
  };
}
