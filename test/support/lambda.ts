// Drives Lambda-style SQS handlers from a MemoryQueue the way the event source mapping does: receive, invoke, delete what succeeded.
import { createHash } from "node:crypto";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { MemoryQueue, ReceivedMessage } from "#adapters/memory/queue.ts";

export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function lambdaContext(name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:000000000000:function:${name}`,
    memoryLimitInMB: "512",
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "test",
    getRemainingTimeInMillis: () => 60_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** An SQS record as Lambda delivers it; `rawBody` overrides the JSON of the queued body. */
export function sqsRecord(queue: string, m: ReceivedMessage<unknown>, rawBody?: string): SQSRecord {
  const body = rawBody ?? JSON.stringify(m.body);
  return {
    messageId: m.messageId,
    receiptHandle: m.receiptHandle,
    body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: "test",
      ApproximateFirstReceiveTimestamp: String(m.sentAt),
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:eu-west-1:000000000000:${queue}`,
    awsRegion: "eu-west-1",
  };
}

export interface BatchRun {
  received: number;
  /** SQS message ids the handler reported as failed (left in the queue). */
  failed: string[];
}

/** One receive-invoke-delete round; failed records stay in flight until their visibility timeout. */
export async function runBatch<T>(
  queue: MemoryQueue<T>,
  handler: BatchHandler,
  options: { name?: string; batchSize?: number } = {},
): Promise<BatchRun> {
  const name = options.name ?? "queue";
  const messages = queue.receive(options.batchSize ?? 10);
  if (messages.length === 0) return { received: 0, failed: [] };
  const res = await handler(
    { Records: messages.map((m) => sqsRecord(name, m as ReceivedMessage<unknown>)) },
    lambdaContext(name),
  );
  const failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  for (const m of messages) if (!failed.has(m.messageId)) queue.delete(m.receiptHandle);
  return { received: messages.length, failed: [...failed] };
}
