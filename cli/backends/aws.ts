// The CLI's AWS back end: the deployed stack's tables, queues and bucket through the AWS adapters, credentials from the SDK's default chain.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoHopStateStore } from "#adapters/aws/dynamodb-hop-state.ts";
import { DynamoRateCounterStore } from "#adapters/aws/dynamodb-rate-counters.ts";
import { DynamoRecordStore } from "#adapters/aws/dynamodb-records.ts";
import { DynamoSuppressionStore } from "#adapters/aws/dynamodb-suppression.ts";
import { DynamoTrackingStore } from "#adapters/aws/dynamodb-tracking.ts";
import type { AwsClients } from "#adapters/aws/from-env.ts";
import { S3MessageStore } from "#adapters/aws/s3.ts";
import { SecretsManagerStore } from "#adapters/aws/secrets.ts";
import { queueDepth, SqsQueue } from "#adapters/aws/sqs.ts";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import type { MessageStore, RecordStore } from "#core/ports.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import { keptRetryJobs } from "#core/usecases/admin-hold.ts";
import type { DeadLetterQueue } from "#core/usecases/admin-redrive.ts";
import { AWS_FLAGS, type AwsFlag, type Flags, str } from "../args.ts";
import { UsageError } from "../errors.ts";
import type { QueueBackend } from "./backend.ts";

/** A flag's value, else its environment variable's, else a UsageError naming both and the stack output. */
export function awsSetting(flags: Flags, flag: AwsFlag, why: string): string {
  const value = str(flags, flag) ?? process.env[AWS_FLAGS[flag]];
  if (value) return value;
  throw new UsageError(
    `--aws: ${why} needs --${flag} (or ${AWS_FLAGS[flag]} in the environment); see docs/cli.md, "AWS"`,
  );
}

/** SDK clients for the region given, else the SDK's own (AWS_REGION, the profile); AWS_ENDPOINT_URL_* are honoured by the SDK. */
export function awsClients(flags: Flags): AwsClients {
  const region = str(flags, "region");
  const config = region ? { region } : {};
  return {
    dynamo: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    s3: new S3Client(config),
    secretsManager: new SecretsManagerClient(config),
  };
}

export function awsRecordStore(flags: Flags, clients: AwsClients): RecordStore {
  const tableName = awsSetting(flags, "record-table", "the record verbs (the RecordTable output)");
  return new DynamoRecordStore({ client: clients.dynamo, tableName });
}

export function awsCounters(flags: Flags, clients: AwsClients): DynamoRateCounterStore {
  const tableName = awsSetting(flags, "limits-table", "lockouts (the LimitsTable output)");
  return new DynamoRateCounterStore({ client: clients.dynamo, tableName });
}

/** Deliver's next-hop documents in the Limits table; without --limits-table the views show none. */
export function awsHopState(flags: Flags, clients: AwsClients): DynamoHopStateStore | undefined {
  const tableName = str(flags, "limits-table") ?? process.env[AWS_FLAGS["limits-table"]];
  return tableName ? new DynamoHopStateStore({ client: clients.dynamo, tableName }) : undefined;
}

export function awsSuppression(flags: Flags, clients: AwsClients): DynamoSuppressionStore {
  const tableName = awsSetting(
    flags,
    "tracking-table",
    "the suppression list (the TrackingTable output)",
  );
  return new DynamoSuppressionStore({ client: clients.dynamo, tableName });
}

export function awsSecretStore(flags: Flags, clients: AwsClients): SecretsManagerStore {
  return new SecretsManagerStore({
    client: clients.secretsManager,
    prefix: str(flags, "secret-prefix") ?? process.env[AWS_FLAGS["secret-prefix"]] ?? "",
    // The CLI reads what it has just written.
    cacheTtlMs: 0,
  });
}

/** SQS redrive by hand: receive from the DLQ, release, send to the source, delete; until it is empty. */
function sqsDeadLetterQueue(
  queue: "submission" | "delivery",
  sqs: SQSClient,
  dlqUrl: string,
  sourceUrl: string,
): DeadLetterQueue {
  return {
    queue,
    async redrive(release) {
      // Long polling (1 s) so an empty answer means empty, not a sampled server without messages.
      const dlq = new SqsQueue<unknown>({ client: sqs, queueUrl: dlqUrl, waitTimeSeconds: 1 });
      const source = new SqsQueue<unknown>({ client: sqs, queueUrl: sourceUrl });
      let n = 0;
      for (;;) {
        const batch = await dlq.receive(10, 60);
        if (batch.length === 0) return n;
        for (const m of batch) {
          await release(m.body);
          await source.send(m.body);
          await dlq.delete(m.receiptHandle);
          n++;
        }
      }
    },
  };
}

export function awsBackend(flags: Flags, clients: AwsClients, records: RecordStore): QueueBackend {
  const need = (flag: AwsFlag, why: string) => awsSetting(flags, flag, why);
  const trackingTable = need(
    "tracking-table",
    "queues, messages and tracking (the tracking table)",
  );
  const url = (flag: AwsFlag) => str(flags, flag) ?? process.env[AWS_FLAGS[flag]];
  const lazyQueue = <T>(flag: AwsFlag) => ({
    send: (body: T, options?: { delaySeconds?: number }) =>
      new SqsQueue<T>({ client: clients.sqs, queueUrl: need(flag, "this action") }).send(
        body,
        options,
      ),
  });
  const submissionDlq = url("submission-dlq-url");
  const deliveryDlq = url("delivery-dlq-url");
  const tracking = new DynamoTrackingStore({ client: clients.dynamo, tableName: trackingTable });
  const messages: MessageStore = {
    // Resolved on use: looking at queues and tracking needs no bucket.
    get: (key) => bucket().get(key),
    put: (key, body) => bucket().put(key, body),
    delete: (key) => bucket().delete(key),
  };
  return {
    deps: {
      records: { get: async () => buildRecordSet(await records.list()) },
      tracking,
      messages,
      // SQS hides delayed jobs: Retry sends the retry deliver kept in the bucket.
      jobs: keptRetryJobs(tracking, messages),
      submissionQueue: lazyQueue<SubmittedMessage>("submission-queue-url"),
      deliveryQueue: lazyQueue<DeliveryJob>("delivery-queue-url"),
      clock: { now: () => new Date() },
      ...(process.env.RELAY_HOST_NAME ? { hostName: process.env.RELAY_HOST_NAME } : {}),
    },
    async submissionCount() {
      const u = url("submission-queue-url");
      return u ? queueDepth(clients.sqs, u) : undefined;
    },
    async poisonCount() {
      if (!submissionDlq && !deliveryDlq) return undefined;
      let n = 0;
      for (const u of [submissionDlq, deliveryDlq]) if (u) n += await queueDepth(clients.sqs, u);
      return n;
    },
    // Reading an SQS message takes it (and counts a receive): the Poison queue is counted, not listed.
    deadLetters: async () => undefined,
    deadLetterQueues() {
      const pairs: DeadLetterQueue[] = [];
      const sub = need("submission-dlq-url", "relay queue retry");
      const del = need("delivery-dlq-url", "relay queue retry");
      pairs.push(
        sqsDeadLetterQueue(
          "submission",
          clients.sqs,
          sub,
          need("submission-queue-url", "relay queue retry"),
        ),
      );
      pairs.push(
        sqsDeadLetterQueue(
          "delivery",
          clients.sqs,
          del,
          need("delivery-queue-url", "relay queue retry"),
        ),
      );
      return pairs;
    },
    close() {
      for (const c of Object.values(clients)) c.destroy();
    },
  };

  function bucket(): S3MessageStore {
    return new S3MessageStore({
      client: clients.s3,
      bucket: need("body-bucket", "message bodies and held jobs (the body bucket)"),
    });
  }
}
