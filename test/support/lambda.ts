// Drives Lambda-style SQS handlers from a MemoryQueue the way the event source mapping does: receive, invoke, delete what succeeded.
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { MemoryQueue, ReceivedMessage } from "#adapters/memory/queue.ts";
import { lambdaContext, sqsRecord as sqsEventRecord } from "#adapters/sqs-event.ts";
import { FunctionTimeoutError, invokeWithTimeout } from "./esm-simulator.ts";

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
  /** The handler outran the function timeout and was killed: the whole batch stays in the queue. */
  timedOut?: boolean;
}

/**
 * One receive-invoke-delete round; failed records stay in flight until their visibility timeout.
 * With `functionTimeoutSeconds` the handler is killed there as Lambda does (see invokeWithTimeout).
 */
export async function runBatch<T>(
  queue: MemoryQueue<T>,
  handler: BatchHandler,
  options: { name?: string; batchSize?: number; functionTimeoutSeconds?: number } = {},
): Promise<BatchRun> {
  const name = options.name ?? "queue";
  const messages = queue.receive(options.batchSize ?? 10);
  if (messages.length === 0) return { received: 0, failed: [] };
  const event = { Records: messages.map((m) => sqsRecord(name, m as ReceivedMessage<unknown>)) };
  let res: SQSBatchResponse | undefined;
  try {
    res =
      options.functionTimeoutSeconds === undefined
        ? await handler(event, lambdaContext(name))
        : await invokeWithTimeout(handler, event, name, options.functionTimeoutSeconds);
  } catch (error) {
    if (!(error instanceof FunctionTimeoutError)) throw error;
    return { received: messages.length, failed: messages.map((m) => m.messageId), timedOut: true };
  }
  const failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  for (const m of messages) if (!failed.has(m.messageId)) queue.delete(m.receiptHandle);
  return { received: messages.length, failed: [...failed] };
}
