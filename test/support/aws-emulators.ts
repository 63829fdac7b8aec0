// In-process emulators of the AWS APIs the relay uses, on 127.0.0.1 port 0: fauxqs (SQS, S3),
// dynalite (DynamoDB) and a minimal Secrets Manager, with SDK clients pointed at them.

import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { buildApp } from "fauxqs";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { queueDepth } from "#adapters/aws/sqs.ts";
import { LIMITS_TABLE, RECORD_TABLE, TRACKING_TABLE } from "#adapters/aws/table-design.ts";

const REGION = "us-east-1";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
// Connection failures must fail a test at once rather than be retried for seconds.
const common = { region: REGION, credentials, maxAttempts: 1 };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/*
 * No Secrets Manager emulator is installed (fauxqs and dynalite do not cover it), so this is the
 * smallest honest stand-in: an HTTP server speaking the service's JSON 1.1 protocol for the calls
 * the relay and its CLI make (GetSecretValue; CreateSecret, PutSecretValue, DeleteSecret), with the
 * real ResourceNotFoundException and ResourceExistsException error shapes. The
 * real SDK client talks to it, so request signing, serialisation and error parsing are exercised.
 */
export async function startSecretsManagerFake(
  secrets: Map<string, string>,
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, body: unknown, errorType?: string) => {
        res.writeHead(status, {
          "content-type": "application/x-amz-json-1.1",
          ...(errorType ? { "x-amzn-errortype": errorType } : {}),
        });
        res.end(JSON.stringify(body));
      };
      const target = String(req.headers["x-amz-target"] ?? "").replace(/^secretsmanager\./, "");
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as {
        SecretId?: string;
        Name?: string;
        SecretString?: string;
      };
      const name = String(input.SecretId ?? input.Name ?? "").replace(
        /^arn:aws:secretsmanager:[^:]*:\d+:secret:/,
        "",
      );
      const arn = `arn:aws:secretsmanager:${REGION}:000000000000:secret:${name}`;
      const notFound = () =>
        reply(
          400,
          {
            __type: "ResourceNotFoundException",
            message: "Secrets Manager can't find the specified secret.",
          },
          "ResourceNotFoundException",
        );
      const version = { VersionId: "00000000-0000-0000-0000-000000000001" };
      switch (target) {
        case "GetSecretValue": {
          const value = secrets.get(name);
          if (value === undefined) return notFound();
          return reply(200, {
            ARN: arn,
            Name: name,
            SecretString: value,
            ...version,
            VersionStages: ["AWSCURRENT"],
            CreatedDate: Date.now() / 1000,
          });
        }
        // The admin tool's writes (DKIM keys, smart-host credentials), with the real error shapes.
        case "CreateSecret":
          if (secrets.has(name))
            return reply(
              400,
              { __type: "ResourceExistsException", message: `The secret ${name} already exists.` },
              "ResourceExistsException",
            );
          secrets.set(name, input.SecretString ?? "");
          return reply(200, { ARN: arn, Name: name, ...version });
        case "PutSecretValue":
          if (!secrets.has(name)) return notFound();
          secrets.set(name, input.SecretString ?? "");
          return reply(200, { ARN: arn, Name: name, ...version, VersionStages: ["AWSCURRENT"] });
        case "DeleteSecret":
          if (!secrets.delete(name)) return notFound();
          return reply(200, { ARN: arn, Name: name, DeletionDate: Date.now() / 1000 + 7 * 86400 });
        default:
          return reply(400, { __type: "UnknownOperationException" }, "UnknownOperationException");
      }
    });
  });
  const endpoint = await listen(server);
  return { endpoint, stop: () => close(server) };
}

export interface QueueSpec {
  name: string;
  /** Creates `<name>-dlq` and a redrive policy with this maxReceiveCount. */
  maxReceiveCount?: number;
  visibilityTimeoutSeconds?: number;
}

/** "http://127.0.0.1:port" of a client's endpoint, for the AWS_ENDPOINT_URL_* a child process reads. */
export async function endpointOf(client: {
  config: { endpoint?: () => Promise<unknown> };
}): Promise<string> {
  const ep = (await client.config.endpoint?.()) as {
    protocol: string;
    hostname: string;
    port: number;
  };
  return `${ep.protocol}//${ep.hostname}:${ep.port}`;
}

export interface AwsEmulators {
  sqs: SQSClient;
  s3: S3Client;
  dynamo: DynamoDBClient;
  secretsManager: SecretsManagerClient;
  /** Secrets the Secrets Manager stand-in serves, by name. */
  secrets: Map<string, string>;
  /** Every HTTP request fauxqs answered, as "METHOD /path" (S3 requests are path-style). */
  fauxqsRequests: string[];
  createQueue(spec: QueueSpec): Promise<{ url: string; dlqUrl?: string }>;
  createBucket(name: string): Promise<void>;
  createRecordTable(name: string): Promise<void>;
  createTrackingTable(name: string): Promise<void>;
  createLimitsTable(name: string): Promise<void>;
  /** ApproximateNumberOfMessages (+ not visible + delayed) of a queue. */
  queueDepth(url: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startAwsEmulators(): Promise<AwsEmulators> {
  // buildApp rather than startFauxqs, which binds 0.0.0.0: tests bind loopback only.
  const fauxqs = buildApp({ logger: false });
  const fauxqsRequests: string[] = [];
  fauxqs.addHook("onRequest", async (request) => {
    fauxqsRequests.push(`${request.method} ${request.url.split("?")[0]}`);
  });
  await fauxqs.listen({ port: 0, host: "127.0.0.1" });
  const fauxqsEndpoint = `http://127.0.0.1:${(fauxqs.server.address() as AddressInfo).port}`;

  // dynalite is CommonJS without types; createTableMs 0 makes new tables ACTIVE at once.
  const dynalite = createRequire(import.meta.url)("dynalite") as (options: object) => Server;
  const dynaliteServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamoEndpoint = await listen(dynaliteServer);

  const secrets = new Map<string, string>();
  const secretsFake = await startSecretsManagerFake(secrets);

  const sqs = new SQSClient({ ...common, endpoint: fauxqsEndpoint });
  const s3 = new S3Client({ ...common, endpoint: fauxqsEndpoint, forcePathStyle: true });
  const dynamo = new DynamoDBClient({ ...common, endpoint: dynamoEndpoint });
  const secretsManager = new SecretsManagerClient({ ...common, endpoint: secretsFake.endpoint });

  async function waitActive(name: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const t = await dynamo.send(new DescribeTableCommand({ TableName: name }));
      if (t.Table?.TableStatus === "ACTIVE") return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`table ${name} did not become ACTIVE`);
  }

  return {
    sqs,
    s3,
    dynamo,
    secretsManager,
    secrets,
    fauxqsRequests,
    async createQueue(spec) {
      const attributes: Record<string, string> = {};
      if (spec.visibilityTimeoutSeconds !== undefined)
        attributes.VisibilityTimeout = String(spec.visibilityTimeoutSeconds);
      let dlqUrl: string | undefined;
      if (spec.maxReceiveCount !== undefined) {
        const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${spec.name}-dlq` }));
        dlqUrl = dlq.QueueUrl!;
        const arn = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
        );
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: arn.Attributes?.QueueArn,
          maxReceiveCount: spec.maxReceiveCount,
        });
      }
      const q = await sqs.send(
        new CreateQueueCommand({ QueueName: spec.name, Attributes: attributes }),
      );
      return { url: q.QueueUrl!, dlqUrl };
    },
    async createBucket(name) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
    },
    async createRecordTable(name) {
      await dynamo.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [
            { AttributeName: RECORD_TABLE.partitionKey, AttributeType: "S" },
            { AttributeName: RECORD_TABLE.sortKey, AttributeType: "S" },
          ],
          KeySchema: [
            { AttributeName: RECORD_TABLE.partitionKey, KeyType: "HASH" },
            { AttributeName: RECORD_TABLE.sortKey, KeyType: "RANGE" },
          ],
        }),
      );
      await waitActive(name);
    },
    async createTrackingTable(name) {
      const indexes = Object.values(TRACKING_TABLE.indexes);
      const attributes = new Set<string>([
        TRACKING_TABLE.partitionKey,
        TRACKING_TABLE.sortKey,
        ...indexes.flatMap((ix) => [ix.partitionKey, ix.sortKey]),
      ]);
      const gsis: GlobalSecondaryIndex[] = indexes.map((ix) => ({
        IndexName: ix.name,
        KeySchema: [
          { AttributeName: ix.partitionKey, KeyType: "HASH" },
          { AttributeName: ix.sortKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      }));
      await dynamo.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [...attributes].map((a) => ({
            AttributeName: a,
            AttributeType: "S",
          })),
          KeySchema: [
            { AttributeName: TRACKING_TABLE.partitionKey, KeyType: "HASH" },
            { AttributeName: TRACKING_TABLE.sortKey, KeyType: "RANGE" },
          ],
          GlobalSecondaryIndexes: gsis,
        }),
      );
      await waitActive(name);
    },
    async createLimitsTable(name) {
      await dynamo.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: LIMITS_TABLE.partitionKey, AttributeType: "S" }],
          KeySchema: [{ AttributeName: LIMITS_TABLE.partitionKey, KeyType: "HASH" }],
        }),
      );
      await waitActive(name);
    },
    queueDepth: (url) => queueDepth(sqs, url),
    async stop() {
      for (const c of [sqs, s3, dynamo, secretsManager]) c.destroy();
      await fauxqs.close();
      await close(dynaliteServer);
      await secretsFake.stop();
    },
  };
}

/**
 * The variables the stack sets on the listener task and the functions (adapters/aws/env.ts), for
 * the emulators' queues and the test tables ("relay-records", "relay-tracking", "relay-bodies").
 */
export function relayEnv(
  queues: { submission: string; delivery: string },
  more: Record<string, string> = {},
): Record<string, string> {
  return {
    [RELAY_ENV.submissionQueueUrl]: queues.submission,
    [RELAY_ENV.deliveryQueueUrl]: queues.delivery,
    [RELAY_ENV.bodyBucket]: "relay-bodies",
    [RELAY_ENV.recordTable]: "relay-records",
    [RELAY_ENV.trackingTable]: "relay-tracking",
    [RELAY_ENV.secretPrefix]: "connectorrelay/",
    [RELAY_ENV.hostName]: "relay.test",
    ...more,
  };
}
