// The AWS adapters pass the shared port contracts against fauxqs (SQS, S3), dynalite (DynamoDB)
// and a Secrets Manager stand-in, all in-process on loopback; plus what only the AWS side has.
import { randomUUID } from "node:crypto";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, test } from "vitest";
import { DynamoRateCounterStore } from "#adapters/aws/dynamodb-rate-counters.ts";
import { DynamoRecordStore } from "#adapters/aws/dynamodb-records.ts";
import { DynamoSuppressionStore } from "#adapters/aws/dynamodb-suppression.ts";
import { DynamoTrackingStore } from "#adapters/aws/dynamodb-tracking.ts";
import { awsAdaptersFromEnv, MissingEnvironmentError, RELAY_ENV } from "#adapters/aws/from-env.ts";
import { S3MessageStore } from "#adapters/aws/s3.ts";
import { SecretsManagerStore } from "#adapters/aws/secrets.ts";
import { clampDelaySeconds, SqsQueue } from "#adapters/aws/sqs.ts";
import { NotFoundError, QueueUnavailableError } from "#core/errors.ts";
import { RecordCache } from "#core/records/cache.ts";
import { queueContract } from "#test/contract/queue.ts";
import { rateCounterStoreContract } from "#test/contract/rate-counter-store.ts";
import {
  messageStoreContract,
  recordStoreContract,
  secretStoreContract,
} from "#test/contract/stores.ts";
import { suppressionStoreContract } from "#test/contract/suppression-store.ts";
import { trackingStoreContract } from "#test/contract/tracking-store.ts";
import { type AwsEmulators, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { ManualClock } from "#test/support/clock.ts";

let started: Promise<AwsEmulators> | undefined;
const emulators = () => {
  started ??= startAwsEmulators();
  return started;
};
afterAll(async () => {
  if (started) await (await started).stop();
});

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function newQueue<T>(spec: { maxReceiveCount?: number } = {}) {
  const emu = await emulators();
  const { url, dlqUrl } = await emu.createQueue({ name: unique("q"), ...spec });
  return {
    emu,
    queue: new SqsQueue<T>({ client: emu.sqs, queueUrl: url }),
    dlq: dlqUrl ? new SqsQueue<T>({ client: emu.sqs, queueUrl: dlqUrl }) : undefined,
  };
}

async function newRecordStore() {
  const emu = await emulators();
  const tableName = unique("records");
  await emu.createRecordTable(tableName);
  return { emu, tableName, store: new DynamoRecordStore({ client: emu.dynamo, tableName }) };
}

async function newTrackingStore() {
  const emu = await emulators();
  const tableName = unique("tracking");
  await emu.createTrackingTable(tableName);
  return { emu, tableName, store: new DynamoTrackingStore({ client: emu.dynamo, tableName }) };
}

// fauxqs runs on the real clock: the contract's `advance` really waits (the suite uses 1.5 s).
queueContract("SQS on fauxqs", async () => ({
  queue: (await newQueue<{ n: number }>()).queue,
  advance: sleep,
}));
messageStoreContract("S3 on fauxqs", async () => {
  const emu = await emulators();
  const bucket = unique("bodies");
  await emu.createBucket(bucket);
  return new S3MessageStore({ client: emu.s3, bucket, prefix: "bodies/" });
});
recordStoreContract("DynamoDB on dynalite", async () => (await newRecordStore()).store);
trackingStoreContract("DynamoDB on dynalite", async () => (await newTrackingStore()).store);
rateCounterStoreContract("DynamoDB on dynalite", async () => {
  const emu = await emulators();
  const tableName = unique("limits");
  await emu.createLimitsTable(tableName);
  const clock = new ManualClock();
  const store = (client = emu.dynamo) => new DynamoRateCounterStore({ client, tableName, clock });
  return { store: store(), other: store(), advance: async (ms) => clock.advance(ms) };
});
suppressionStoreContract("DynamoDB on dynalite (tracking table)", async () => {
  const { emu, tableName } = await newTrackingStore();
  const clock = new ManualClock("2026-11-24T10:00:00.000Z");
  const store = () => new DynamoSuppressionStore({ client: emu.dynamo, tableName, clock });
  return { store: store(), other: store(), advance: async (ms) => clock.advance(ms) };
});
secretStoreContract("Secrets Manager stand-in", async (secrets) => {
  const emu = await emulators();
  const prefix = `${unique("relay")}/`;
  for (const [k, v] of Object.entries(secrets)) emu.secrets.set(prefix + k, v);
  return new SecretsManagerStore({ client: emu.secretsManager, prefix });
});

describe("SqsQueue beyond the contract", () => {
  test("delays are capped at SQS's 900 seconds and rounded up to whole seconds", () => {
    expect([undefined, -5, 0, 0.2, 14.5, 900, 901, 86_400].map(clampDelaySeconds)).toEqual([
      0, 0, 0, 1, 15, 900, 900, 900,
    ]);
  });

  test("a send SQS refuses (no such queue) is QueueUnavailableError, naming the cause", async () => {
    const emu = await emulators();
    const { url } = await emu.createQueue({ name: unique("q") });
    const queue = new SqsQueue({ client: emu.sqs, queueUrl: `${url}-missing` });
    const error = await queue.send({ n: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueUnavailableError);
    expect((error as Error).message).toMatch(/QueueDoesNotExist/);
  });

  test("a send to an unreachable endpoint is QueueUnavailableError", async () => {
    const { SQSClient } = await import("@aws-sdk/client-sqs");
    const client = new SQSClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    const queue = new SqsQueue({ client, queueUrl: "http://127.0.0.1:1/000000000000/q" });
    await expect(queue.send({ n: 1 })).rejects.toBeInstanceOf(QueueUnavailableError);
    client.destroy();
  });

  test("text SQS would refuse (U+FFFF in a subject) still queues and comes back unchanged", async () => {
    const { queue } = await newQueue<{ subject: string }>();
    await queue.send({ subject: "Invoice \uffff\ufffe \u0000 done" });
    const [m] = await queue.receive(1, 30);
    expect(m?.body.subject).toBe("Invoice \uffff\ufffe \u0000 done");
  });

  test("after maxReceiveCount receives the redrive policy moves a message to the DLQ", async () => {
    const { queue, dlq } = await newQueue<{ n: number }>({ maxReceiveCount: 2 });
    await queue.send({ n: 9 });
    for (let i = 1; i <= 2; i++) {
      const [m] = await queue.receive(10, 30);
      expect(m?.receiveCount).toBe(i);
      await queue.changeVisibility(m!.receiptHandle, 0);
    }
    expect(await queue.receive(10, 30)).toEqual([]);
    expect((await dlq!.receive(10, 30)).map((m) => m.body.n)).toEqual([9]);
  });

  test("deleting twice and changing visibility of a deleted message are ignored", async () => {
    const { queue } = await newQueue<{ n: number }>();
    await queue.send({ n: 1 });
    const [m] = await queue.receive(1, 30);
    await queue.delete(m!.receiptHandle);
    await queue.delete(m!.receiptHandle);
    await queue.changeVisibility(m!.receiptHandle, 0);
    expect(await queue.receive(10, 30)).toEqual([]);
  });
});

describe("S3MessageStore beyond the contract", () => {
  test("a missing bucket is a real failure, not NotFoundError", async () => {
    const emu = await emulators();
    const store = new S3MessageStore({ client: emu.s3, bucket: unique("absent") });
    const error = await store.get("k").catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(NotFoundError);
    expect((error as Error).name).toBe("NoSuchBucket");
  });
});

describe("DynamoRecordStore: items are the plain record, editable in the console", () => {
  test("an item holds the record's own attributes with kind and the lower-cased id as keys", async () => {
    const { emu, tableName, store } = await newRecordStore();
    await store.put({
      kind: "SendConnector",
      name: "To Internet",
      addressSpaces: [{ domain: "*", cost: 1 }],
    });
    const raw = await emu.dynamo.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { kind: { S: "SendConnector" }, id: { S: "to internet" } },
      }),
    );
    expect(raw.Item).toEqual({
      kind: { S: "SendConnector" },
      id: { S: "to internet" },
      name: { S: "To Internet" },
      addressSpaces: { L: [{ M: { domain: { S: "*" }, cost: { N: "1" } } }] },
    });
  });

  test("an item added by hand is validated on read: a good one is used, a bad one reported by key and field", async () => {
    const { emu, tableName, store } = await newRecordStore();
    const put = (item: Record<string, { S: string }>) =>
      emu.dynamo.send(new PutItemCommand({ TableName: tableName, Item: item }));
    await put({
      kind: { S: "AcceptedDomain" },
      id: { S: "contoso.com" },
      domain: { S: "contoso.com" },
    });
    await put({ kind: { S: "AcceptedDomain" }, id: { S: "*" }, domain: { S: "*" } });
    const clock = new ManualClock();
    const problems: string[] = [];
    const cache = new RecordCache(store, {
      ttlMs: 60_000,
      clock,
      onProblem: (_p, text) => problems.push(text),
    });
    const set = await cache.get();
    expect(set.acceptedDomains.map((d) => d.domain)).toEqual(["contoso.com"]);
    expect(problems).toEqual([expect.stringMatching(/^AcceptedDomain "\*": domain: .*open relay/)]);

    // A console edit takes effect once the cache's TTL has passed, not before.
    await put({
      kind: { S: "AcceptedDomain" },
      id: { S: "fabrikam.com" },
      domain: { S: "fabrikam.com" },
    });
    expect((await cache.get()).acceptedDomains).toHaveLength(1);
    clock.advance(60_000);
    expect((await cache.get()).acceptedDomains.map((d) => d.domain).sort()).toEqual([
      "contoso.com",
      "fabrikam.com",
    ]);
  });

  test("TransportSettings without a name is stored under its default id", async () => {
    const { store } = await newRecordStore();
    await store.put({ kind: "TransportSettings", messageExpirationTimeoutSeconds: 3600 });
    expect(await store.get("TransportSettings", "default")).toEqual({
      kind: "TransportSettings",
      messageExpirationTimeoutSeconds: 3600,
    });
  });
});

describe("SecretsManagerStore beyond the contract", () => {
  test("a value is reused within the cache TTL and read again after it", async () => {
    const emu = await emulators();
    const name = unique("tls");
    emu.secrets.set(name, "v1");
    const clock = new ManualClock();
    const store = new SecretsManagerStore({
      client: emu.secretsManager,
      clock,
      cacheTtlMs: 60_000,
    });
    expect(await store.get(name)).toBe("v1");
    emu.secrets.set(name, "v2");
    expect(await store.get(name)).toBe("v1");
    clock.advance(60_000);
    expect(await store.get(name)).toBe("v2");
  });
});

describe("awsAdaptersFromEnv", () => {
  test("builds working adapters from the variables the stack sets", async () => {
    const emu = await emulators();
    const submission = await emu.createQueue({ name: unique("submission") });
    const delivery = await emu.createQueue({ name: unique("delivery") });
    const bucket = unique("bodies");
    await emu.createBucket(bucket);
    const records = unique("records");
    const tracking = unique("tracking");
    await emu.createRecordTable(records);
    await emu.createTrackingTable(tracking);
    emu.secrets.set("relay-env/smarthost/a", "s3cret");
    const adapters = awsAdaptersFromEnv(
      {
        [RELAY_ENV.submissionQueueUrl]: submission.url,
        [RELAY_ENV.deliveryQueueUrl]: delivery.url,
        [RELAY_ENV.bodyBucket]: bucket,
        [RELAY_ENV.recordTable]: records,
        [RELAY_ENV.trackingTable]: tracking,
        [RELAY_ENV.secretPrefix]: "relay-env/",
      },
      emu,
    );
    await adapters.recordStore.put({ kind: "AcceptedDomain", domain: "contoso.com" });
    expect((await adapters.recordCache.get()).acceptedDomains.map((d) => d.domain)).toEqual([
      "contoso.com",
    ]);
    await adapters.messageStore.put("k1", new Uint8Array([1, 2]));
    expect([...(await adapters.messageStore.get("k1"))]).toEqual([1, 2]);
    expect(await adapters.secretStore.get("smarthost/a")).toBe("s3cret");
    await adapters.deliveryQueue.send({ jobId: "j1" } as never);
    expect((await adapters.deliveryQueue.receive(1, 30))[0]?.body).toEqual({ jobId: "j1" });
  });

  test("tracking TTL: the stack's retention days, then the TransportSettings record's MessageTrackingLogMaxAge", async () => {
    const emu = await emulators();
    const records = unique("records");
    const tracking = unique("tracking");
    await emu.createRecordTable(records);
    await emu.createTrackingTable(tracking);
    const env = {
      [RELAY_ENV.submissionQueueUrl]: "http://unused",
      [RELAY_ENV.deliveryQueueUrl]: "http://unused",
      [RELAY_ENV.bodyBucket]: "unused",
      [RELAY_ENV.recordTable]: records,
      [RELAY_ENV.trackingTable]: tracking,
      [RELAY_ENV.trackingRetentionDays]: "14",
    };
    const receivedAt = "2026-11-24T10:00:00.000Z";
    const ttlOf = async (adapters: ReturnType<typeof awsAdaptersFromEnv>, id: string) => {
      await adapters.recordCache.get();
      await adapters.trackingStore.create({
        messageId: id,
        recipient: "a@contoso.com",
        sender: "app@contoso.com",
        status: "Queued",
        receivedAt,
        updatedAt: receivedAt,
        attempts: 0,
      });
      const raw = await emu.dynamo.send(
        new GetItemCommand({
          TableName: tracking,
          Key: { pk: { S: `MSG#${id}` }, sk: { S: "RCPT#a@contoso.com" } },
        }),
      );
      return (Number(raw.Item?.expiresAt?.N) - Date.parse(receivedAt) / 1000) / 86_400;
    };
    expect(await ttlOf(awsAdaptersFromEnv(env, emu), "m1")).toBe(14);
    const adapters = awsAdaptersFromEnv(env, emu);
    await adapters.recordStore.put({
      kind: "TransportSettings",
      name: "default",
      messageTrackingLogMaxAgeDays: 90,
    });
    expect(await ttlOf(adapters, "m2")).toBe(90);
  });

  test("a missing variable is named", () => {
    expect(() => awsAdaptersFromEnv({}, {} as never)).toThrow(MissingEnvironmentError);
    expect(() => awsAdaptersFromEnv({}, {} as never)).toThrow(RELAY_ENV.recordTable);
  });
});
