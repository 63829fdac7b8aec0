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
    // All at once: the deletes of one batch share one commit. One that fails leaves the message to
    // come back after its visibility timeout (at-least-once), as a failed DeleteMessage does in SQS.
    await Promise.all(
      messages
        .filter((m) => !failed.has(m.messageId))
        .map((m) => options.queue.delete(m.receiptHandle)),
    ).catch((error) => options.onError?.(error));
  }

  /*
   * One receive feeds every free slot: a receive of up to (free slots × batch size) messages is cut
   * into batches that start at once. Idle slots do not each poll the queue database, and one commit
   * makes a whole receive's visibility changes durable.
   */
  async function loop(): Promise<void> {
    const concurrency = options.concurrency ?? 1;
    const running = new Set<Promise<void>>();
    while (!abort.signal.aborted) {
      try {
        if (running.size >= concurrency) {
          await Promise.race(running);
          continue;
        }
        const free = concurrency - running.size;
        const messages = await options.queue.receive(free * batchSize, visibility);
        if (messages.length === 0) {
          await options.queue.waitForMessages(1000, abort.signal);
          continue;
        }
        for (let i = 0; i < messages.length; i += batchSize) {
          const batch: Promise<void> = runBatch(messages.slice(i, i + batchSize)).finally(() =>
            running.delete(batch),
          );
          running.add(batch);
        }
      } catch (error) {
        options.onError?.(error);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await Promise.all(running);
  }

  const dispatcher = loop();
  return {
    async stop() {
      abort.abort();
      await dispatcher;
    },
  };
}
