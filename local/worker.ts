// Feeds a local queue to a Lambda-style handler in SQS-shaped batches, as Lambda's event source
// mapping does in AWS: records whose ids come back in batchItemFailures (or all, if the handler
// throws) stay in the queue and return after their visibility timeout.
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { LocalQueue, LocalReceived } from "#adapters/local/queue.ts";
import { lambdaContext, sqsRecord } from "#adapters/sqs-event.ts";

export type SqsBatchHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | undefined>;

export interface WorkerOptions<T> {
  name: string;
  queue: LocalQueue<T>;
  handler: SqsBatchHandler;
  batchSize?: number;
  /** Batches processed at once (Lambda's maximum concurrency for the event source). */
  concurrency?: number;
  visibilityTimeoutSeconds?: number;
  onError?: (error: unknown) => void;
}

export interface Worker {
  stop(): Promise<void>;
}

export function startWorker<T>(options: WorkerOptions<T>): Worker {
  const batchSize = options.batchSize ?? 10;
  const visibility = options.visibilityTimeoutSeconds ?? 60;
  const abort = new AbortController();

  async function runBatch(messages: LocalReceived<T>[]): Promise<void> {
    // The body goes on as the text stored: serialised once by its producer, parsed once by the handler.
    const records = messages.map((m) => sqsRecord({ queue: options.name }, m, m.text));
    let failed: Set<string>;
    try {
      const res = await options.handler(
        { Records: records },
        lambdaContext(options.name, Date.now() + visibility * 1000),
      );
      failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      options.onError?.(error);
      failed = new Set(records.map((r) => r.messageId));
    }
    // All at once: the deletes of one batch share one commit.
    await Promise.all(
      messages
        .filter((m) => !failed.has(m.messageId))
        .map((m) => options.queue.delete(m.receiptHandle)),
    );
  }

  async function loop(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        const messages = await options.queue.receive(batchSize, visibility);
        if (messages.length === 0) {
          await options.queue.waitForMessages(1000, abort.signal);
          continue;
        }
        await runBatch(messages);
      } catch (error) {
        options.onError?.(error);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  const loops = Array.from({ length: options.concurrency ?? 1 }, () => loop());
  return {
    async stop() {
      abort.abort();
      await Promise.all(loops);
    },
  };
}
