// Builds the AWS adapters from environment variables, the contract between the CDK stack and the code it runs.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import { RecordCache, type RecordCacheOptions } from "#core/records/cache.ts";
import { DEFAULT_TRANSPORT_SETTINGS } from "#core/records/transport-settings.ts";
import { DEFAULT_TRACKING_MAX_AGE_DAYS, trackingMaxAgeDays } from "#core/retention.ts";
import { DynamoRecordStore } from "./dynamodb-records.ts";
import { DynamoTrackingStore } from "./dynamodb-tracking.ts";
import { DEFAULT_RECORD_CACHE_SECONDS, RELAY_ENV, type RelayEnvName } from "./env.ts";
import { S3MessageStore } from "./s3.ts";
import { SecretsManagerStore } from "./secrets.ts";
import { SqsQueue } from "./sqs.ts";

export { RELAY_ENV };

export class MissingEnvironmentError extends Error {
  override readonly name = "MissingEnvironmentError";
}

type Env = Record<string, string | undefined>;

function required(env: Env, key: RelayEnvName): string {
  const value = env[RELAY_ENV[key]];
  if (!value) throw new MissingEnvironmentError(`${RELAY_ENV[key]} is not set`);
  return value;
}

function numberOr(env: Env, key: RelayEnvName, fallback: number): number {
  const n = Number(env[RELAY_ENV[key]]);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export interface AwsAdapters {
  submissionQueue: SqsQueue<SubmittedMessage>;
  deliveryQueue: SqsQueue<DeliveryJob>;
  messageStore: S3MessageStore;
  recordStore: DynamoRecordStore;
  recordCache: RecordCache;
  trackingStore: DynamoTrackingStore;
  secretStore: SecretsManagerStore;
}

export interface AwsClients {
  sqs: SQSClient;
  s3: S3Client;
  dynamo: DynamoDBClient;
  secretsManager: SecretsManagerClient;
  /** Deliver's delivery events; made on first need when absent (route and the listener never publish). */
  eventBridge?: EventBridgeClient;
}

/**
 * SQS client settings of every runtime. `md5: false`: the SDK would hash each message body again
 * to compare with the MD5 SQS echoes, but SigV4 already signs the SHA-256 of the whole request
 * payload, so SQS refuses a request whose bytes changed on the way, and the answer comes back
 * over TLS; the second hash cost the listener ~0.1 ms of CPU per 50 KB message for no added
 * guarantee.
 */
export const SQS_CLIENT_SETTINGS = { md5: false } as const;

/** SDK clients with the region and credentials of the runtime (Lambda or the Fargate task role). */
export function defaultClients(): AwsClients {
  return {
    sqs: new SQSClient({ ...SQS_CLIENT_SETTINGS }),
    s3: new S3Client({}),
    dynamo: new DynamoDBClient({}),
    secretsManager: new SecretsManagerClient({}),
  };
}

/**
 * Adapters for one process. Clients are injectable (tests point them at emulators); the record
 * cache validates records on read and reports each bad one once through `cacheOptions.onProblem`.
 */
export function awsAdaptersFromEnv(
  env: Env = process.env,
  clients: AwsClients = defaultClients(),
  cacheOptions: Omit<RecordCacheOptions, "ttlMs"> = {},
): AwsAdapters {
  const recordStore = new DynamoRecordStore({
    client: clients.dynamo,
    tableName: required(env, "recordTable"),
  });
  const recordCache = new RecordCache(recordStore, {
    ...cacheOptions,
    ttlMs: numberOr(env, "recordCacheSeconds", DEFAULT_RECORD_CACHE_SECONDS) * 1000,
  });
  const stackTrackingDays = numberOr(env, "trackingRetentionDays", DEFAULT_TRACKING_MAX_AGE_DAYS);
  return {
    submissionQueue: new SqsQueue({
      client: clients.sqs,
      queueUrl: required(env, "submissionQueueUrl"),
    }),
    deliveryQueue: new SqsQueue({
      client: clients.sqs,
      queueUrl: required(env, "deliveryQueueUrl"),
    }),
    messageStore: new S3MessageStore({ client: clients.s3, bucket: required(env, "bodyBucket") }),
    recordStore,
    recordCache,
    trackingStore: new DynamoTrackingStore({
      client: clients.dynamo,
      tableName: required(env, "trackingTable"),
      // The TransportSettings record wins once loaded; the stack's retention.trackingDays otherwise.
      retentionDays: () =>
        trackingMaxAgeDays(
          recordCache.current?.settings ?? DEFAULT_TRANSPORT_SETTINGS,
          stackTrackingDays,
        ),
    }),
    secretStore: new SecretsManagerStore({
      client: clients.secretsManager,
      prefix: env[RELAY_ENV.secretPrefix] ?? "",
    }),
  };
}
