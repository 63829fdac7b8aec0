// An SQS queue with its dead-letter queue: SSE, TLS-only access, 14-day retention, redrive after maxReceiveCount.
import { Duration } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { DEFAULT_MAX_RECEIVE_COUNT } from "#core/queue-limits.ts";

export interface RelayQueueProps {
  /** Must be at least 6× the consuming function's timeout (AWS's guidance for event source mappings). */
  visibilityTimeout: Duration;
  /** @default DEFAULT_MAX_RECEIVE_COUNT (core/queue-limits.ts) */
  maxReceiveCount?: number;
  /** @default 14 days, the SQS maximum */
  retention?: Duration;
}

export class RelayQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RelayQueueProps) {
    super(scope, id);
    const retention = props.retention ?? Duration.days(14);
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetter", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, "Queue", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: retention,
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
      },
    });
  }
}
