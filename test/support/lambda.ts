// Drives Lambda-style SQS handlers from a MemoryQueue the way the event source mapping does: receive, invoke, delete what succeeded.
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { MemoryQueue, ReceivedMessage } from "#adapters/memory/queue.ts";
import { lambdaContext, sqsRecord as sqsEventRecord } from "#adapters/sqs-event.ts";

export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export { lambdaContext };

/** An SQS record as Lambda delivers it; `rawBody` overrides the JSON of the queued body. */
export function sqsRecord(queue: string, m: ReceivedMessage<unknown>, rawBody?: string): SQSRecord {
  return sqsEventRecord({ queue, region: "eu-west-1" }, m, rawBody);
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
