// An SQS batch handler on middy and Powertools: per-record processing, partial batch failures, poison records reported to tracking.
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { RelayDeps } from "#core/usecases/deps.ts";
import {
  describeError,
  isLastReceive,
  type PoisonReport,
  recordPoison,
} from "#core/usecases/poison.ts";
import type { Parsed } from "#core/usecases/queue-messages.ts";

/** A queue message whose body is not a valid submission or job; it fails until it is dead-lettered. */
export class PoisonMessageError extends Error {
  override readonly name = "PoisonMessageError";
}

export interface SqsBatchOptions<T> {
  queue: "submission" | "delivery";
  deps: RelayDeps;
  logger: Logger;
  parse: (body: string) => Parsed<T>;
  /**
   * Does the work for one record; throwing leaves the record in the queue for another receive.
   * `context` is the invocation's: records run in parallel, so they share its time left.
   */
  process: (item: T, context?: Context) => Promise<unknown>;
  /** What the poison report says of an item whose processing failed on its last receive. */
  describe: (item: T) => PoisonAbout;
}

type PoisonAbout = Pick<PoisonReport, "messageId" | "recipients" | "sender">;

/**
 * Tracking stops a duplicate queue message once the first copy has finished; two copies in the
 * same batch (or in the local runner's concurrent batches) run at the same moment, so the second
 * is answered with `duplicate` here instead. The first copy stays in the queue if it fails.
 */
export function oncePerKey<T, R>(
  keyOf: (item: T) => string,
  process: (item: T, context?: Context) => Promise<R>,
  duplicate: (item: T) => R,
): (item: T, context?: Context) => Promise<R> {
  const inFlight = new Set<string>();
  return async (item, context) => {
    const key = keyOf(item);
    if (inFlight.has(key)) return duplicate(item);
    inFlight.add(key);
    try {
      return await process(item, context);
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
 * the same answer. A record that fails on its last receive before the dead-letter queue — a body
 * that does not parse, or work that throws — is reported to tracking first (poison.ts), here and
 * only here: the use cases know nothing of receive counts.
 */
export function sqsBatchHandler<T>(
  options: SqsBatchOptions<T>,
): middy.MiddyfiedHandler<SQSEvent, SQSBatchResponse, Error, Context> {
  const { deps, logger } = options;
  const recordHandler = async (record: SQSRecord, context?: Context): Promise<unknown> => {
    const receiveCount = receiveCountOf(record);
    let about: PoisonAbout = { messageId: `sqs:${record.messageId}`, recipients: [] };
    try {
      const parsed = options.parse(record.body);
      if (!parsed.ok) {
        about = {
          messageId: parsed.messageId ?? about.messageId,
          recipients: parsed.recipients,
          ...(parsed.sender !== undefined ? { sender: parsed.sender } : {}),
        };
        throw new PoisonMessageError(parsed.reason);
      }
      about = options.describe(parsed.value);
      return await options.process(parsed.value, context);
    } catch (error) {
      if (isLastReceive(deps, receiveCount)) {
        const reason = error instanceof PoisonMessageError ? error.message : describeError(error);
        await recordPoison(deps, { queue: options.queue, ...about, reason, receiveCount });
      }
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
