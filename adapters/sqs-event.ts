// SQS-shaped Lambda events built from queue receives: what the event source mapping hands a
// function in AWS, made by the local runner and the tests from local and in-memory queues.
import { createHash } from "node:crypto";
import type { Context, SQSRecord } from "aws-lambda";
import type { ReceivedMessage } from "./queue-consumer.ts";

export interface EventSource {
  /** Queue name, used in the record's eventSourceARN. */
  queue: string;
  region?: string;
  account?: string;
  partition?: string;
}

/** An SQS record as Lambda delivers it; `rawBody` overrides the JSON of the queued body. */
export function sqsRecord(
  source: EventSource,
  m: ReceivedMessage<unknown>,
  rawBody?: string,
): SQSRecord {
  const body = rawBody ?? JSON.stringify(m.body);
  const region = source.region ?? "local";
  return {
    messageId: m.messageId,
    receiptHandle: m.receiptHandle,
    body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: "local",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    // Computed only if a handler reads it (ours do not): an MD5 of every body is measurable cost.
    get md5OfBody() {
      return createHash("md5").update(body).digest("hex");
    },
    eventSource: "aws:sqs",
    eventSourceARN: `arn:${source.partition ?? "aws"}:sqs:${region}:${source.account ?? "000000000000"}:${source.queue}`,
    awsRegion: region,
  };
}

/** The part of Lambda's context handlers may read; `deadline` is epoch ms (the visibility timeout locally). */
export function lambdaContext(name: string, deadline = Date.now() + 60_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: "0",
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
