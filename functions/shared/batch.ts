// An SQS batch handler on middy and Powertools: per-record processing, partial batch failures, poison records reported to tracking.
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { RelayDeps } from "#core/usecases/deps.ts";
import { describeError, isLastReceive, recordPoison } from "#core/usecases/poison.ts";
import type { Parsed } from "#core/usecases/queue-messages.ts";

/** A queue message whose body is not a valid submission or job; it fails until it is dead-lettered. */
export class PoisonMessageError extends Error {
  override readonly name = "PoisonMessageError";
}

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface SqsBatchOptions<T> {
  queue: "submission" | "delivery";
  deps: RelayDeps;
  logger: Logger;
  parse: (body: string) => Parsed<T>;
  /**
   * Does the work for one record; throwing leaves the record in the queue for another receive.
   * `context` is the invocation's: records run in parallel, so they share its time left.
   */
  process: (item: T, receiveCount: number, context?: Context) => Promise<unknown>;
}

/**
 * Tracking stops a duplicate queue message once the first copy has finished; two copies in the
 * same batch (or in the local runner's concurrent batches) run at the same moment, so the second
 * is answered with `duplicate` here instead. The first copy stays in the queue if it fails.
 */
export function oncePerKey<T, R>(
  keyOf: (item: T) => string,
  process: (item: T, receiveCount: number, context?: Context) => Promise<R>,
  duplicate: (item: T) => R,
): (item: T, receiveCount: number, context?: Context) => Promise<R> {
  const inFlight = new Set<string>();
  return async (item, receiveCount, context) => {
    const key = keyOf(item);
    if (inFlight.has(key)) return duplicate(item);
    inFlight.add(key);
    try {
      return await process(item, receiveCount, context);
    } finally {
      inFlight.delete(key);
    }
  };
}

/** SQS's ApproximateReceiveCount: 1 on the first receive. */
export const receiveCountOf = (record: SQSRecord): number =>
  Math.max(1, Number(record.attributes?.ApproximateReceiveCount) || 1);

/**
 * Records are processed in parallel and each failure is reported by message id
 * (ReportBatchItemFailures), so one bad record never returns the whole batch to the queue. A
 * fully failed batch is returned as failures too, not thrown, so the local runner and Lambda see
 * the same answer.
 */
export function sqsBatchHandler<T>(
  options: SqsBatchOptions<T>,
): middy.MiddyfiedHandler<SQSEvent, SQSBatchResponse, Error, Context> {
  const { deps, logger } = options;
  const recordHandler = async (record: SQSRecord, context?: Context): Promise<unknown> => {
    const receiveCount = receiveCountOf(record);
    try {
      const parsed = options.parse(record.body);
      if (!parsed.ok) {
        if (isLastReceive(deps, receiveCount))
          await recordPoison(deps, {
            queue: options.queue,
            messageId: parsed.messageId ?? `sqs:${record.messageId}`,
            recipients: parsed.recipients,
            ...(parsed.sender !== undefined ? { sender: parsed.sender } : {}),
            reason: parsed.reason,
            receiveCount,
          });
        throw new PoisonMessageError(parsed.reason);
      }
      return await options.process(parsed.value, receiveCount, context);
    } catch (error) {
      logger.error("record failed", {
        queue: options.queue,
        sqsMessageId: record.messageId,
        receiveCount,
        error: describeError(error),
      });
      throw error;
    }
  };
  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
  return middy<SQSEvent, SQSBatchResponse, Error, Context>(handler).use(
    injectLambdaContext(logger),
  );
}
