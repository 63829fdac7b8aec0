// The CLI's --aws back end as a child process against the AWS emulators: records, tracking, queues, suspend/resume, retry (superseding the delayed job), remove, redrive.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deliverDepsFromEnv } from "#adapters/aws/deliver-deps.ts";
import { DynamoRecordStore } from "#adapters/aws/dynamodb-records.ts";
import { DynamoTrackingStore } from "#adapters/aws/dynamodb-tracking.ts";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { S3MessageStore } from "#adapters/aws/s3.ts";
import { SqsQueue } from "#adapters/aws/sqs.ts";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import type { RecipientRow } from "#core/ports.ts";
import { heldJobKey, keepRetryJob, parkHeldJob, retryJobKey } from "#core/usecases/admin-hold.ts";
import { deliverJob } from "#core/usecases/deliver.ts";
import {
  type AwsEmulators,
  endpointOf,
  relayEnv,
  startAwsEmulators,
} from "#test/support/aws-emulators.ts";
import { parseJsonResult, runCli } from "#test/support/cli.ts";

let emu: AwsEmulators;
let home: string;
let env: Record<string, string>;
let tracking: DynamoTrackingStore;
let bodies: S3MessageStore;
let delivery: SqsQueue<DeliveryJob>;
let submission: SqsQueue<SubmittedMessage>;
let deliveryDlq: SqsQueue<unknown>;
const names = { records: "cli-records", tracking: "cli-tracking", bucket: "cli-bodies" };
const urls: Record<string, string> = {};

beforeAll(async () => {
  emu = await startAwsEmulators();
  home = await mkdtemp(join(tmpdir(), "relay-cli-aws-"));
  await emu.createRecordTable(names.records);
  await emu.createTrackingTable(names.tracking);
  await emu.createBucket(names.bucket);
  const sub = await emu.createQueue({ name: "cli-submission", maxReceiveCount: 5 });
  const del = await emu.createQueue({ name: "cli-delivery", maxReceiveCount: 5 });
  // fauxqs names its queues http://sqs.<region>.localhost:<port>/...; the admin's shell has no DNS
  // for that name, so the URLs given to the CLI use the endpoint's address, as a real queue URL would.
  const sqsEndpoint = await endpointOf(emu.sqs);
  const local = (url: string | undefined) => (url ?? "").replace(/^http:\/\/[^/]+/, sqsEndpoint);
  Object.assign(urls, {
    submission: local(sub.url),
    submissionDlq: local(sub.dlqUrl),
    delivery: local(del.url),
    deliveryDlq: local(del.dlqUrl),
  });
  // What an admin's shell would hold: credentials and region for the SDK chain, the stack's names.
  env = {
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
    AWS_MAX_ATTEMPTS: "1",
    AWS_ENDPOINT_URL_DYNAMODB: await endpointOf(emu.dynamo),
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    AWS_ENDPOINT_URL_S3: await endpointOf(emu.s3),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: await endpointOf(emu.secretsManager),
    RELAY_TRACKING_TABLE: names.tracking,
    RELAY_BODY_BUCKET: names.bucket,
    RELAY_SUBMISSION_QUEUE_URL: urls.submission as string,
    RELAY_DELIVERY_QUEUE_URL: urls.delivery as string,
  };
  tracking = new DynamoTrackingStore({ client: emu.dynamo, tableName: names.tracking });
  bodies = new S3MessageStore({ client: emu.s3, bucket: names.bucket });
  delivery = new SqsQueue({ client: emu.sqs, queueUrl: del.url, waitTimeSeconds: 1 });
  submission = new SqsQueue({ client: emu.sqs, queueUrl: sub.url, waitTimeSeconds: 1 });
  deliveryDlq = new SqsQueue({ client: emu.sqs, queueUrl: del.dlqUrl as string });
}, 30_000);
afterAll(async () => {
  await emu?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

const relay = (args: string[], extra: Record<string, string> = {}) =>
  runCli([...args, "--aws"], { home, env: { ...env, ...extra } });
const json = async <T>(args: string[], extra: Record<string, string> = {}): Promise<T> =>
  parseJsonResult<T>(await relay([...args, "--json"], extra), [...args, "--aws"]);

describe("records", () => {
  test("record verbs write the DynamoDB table named by flag; bad input and missing names are exit 2", async () => {
    const created = await relay([
      "accepted-domain",
      "new",
      "--domain",
      "contoso.com",
      "--record-table",
      names.records,
    ]);
    expect(created).toMatchObject({ code: 0, stderr: "" });
    const store = new DynamoRecordStore({ client: emu.dynamo, tableName: names.records });
    expect(await store.get("AcceptedDomain", "contoso.com")).toMatchObject({
      domain: "contoso.com",
    });
    const listed = await json<unknown[]>(["accepted-domain", "get"], {
      RELAY_RECORD_TABLE: names.records,
    });
    expect(listed).toEqual([
      expect.objectContaining({ kind: "AcceptedDomain", domain: "contoso.com" }),
    ]);

    const bad = await relay([
      "send-connector",
      "new",
      "--name",
      "Bad",
      "--address-spaces",
      "*contoso.com;1",
      "--record-table",
      names.records,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--address-spaces \(addressSpaces\[0\]\.domain\)/);
    const secret = await relay(
      [
        "send-connector",
        "new",
        "--name",
        "Smarthost",
        "--address-spaces",
        "*;1",
        "--smart-hosts",
        "smtp.example.net:587",
        "--auth-user",
        "relay@contoso.com",
        "--record-table",
        names.records,
      ],
      { RELAY_PASSWORD: "x" },
    );
    // The password goes to Secrets Manager (never to the record), which the record names.
    expect(secret.code, secret.stderr).toBe(0);
    expect(JSON.parse(emu.secrets.get("send-connector/smarthost") ?? "{}")).toEqual({
      username: "relay@contoso.com",
      password: "x",
    });
    const missing = await relay(["accepted-domain", "get"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /--aws: the record verbs \(the RecordTable output\) needs --record-table \(or RELAY_RECORD_TABLE/,
    );
    expect((await relay(["records", "validate", "--record-table", names.records])).code).toBe(0);
  });
});

function deferredRow(messageId: string, recipient: string): RecipientRow {
  return {
    messageId,
    recipient,
    sender: "alice@contoso.com",
    status: "Deferred",
    receivedAt: "2026-11-24T10:00:00.000Z",
    updatedAt: "2026-11-24T10:00:05.000Z",
    connector: "To Internet",
    nextHop: "fabrikam.com",
    attempts: 1,
    lastError: "mx1.fabrikam.com[192.0.2.25]: 451 4.7.1 Greylisted",
    nextRetryAt: "2026-11-24T10:01:05.000Z",
    jobId: `${messageId}-0000abcd`,
    size: 512,
    subject: "Quarterly report",
  };
}

function jobFor(row: RecipientRow): DeliveryJob {
  const raw = Buffer.from("From: <alice@contoso.com>\r\nSubject: Quarterly report\r\n\r\nHi.\r\n");
  return {
    jobId: row.jobId as string,
    messageId: row.messageId,
    connector: "To Internet",
    nextHop: { type: "mx", domain: "fabrikam.com" },
    nextHopKey: "fabrikam.com",
    mailFrom: row.sender,
    recipients: [row.recipient],
    body: { inline: raw.toString("base64") },
    size: raw.byteLength,
    receivedAt: row.receivedAt,
    attempts: 1,
    firstSeenAt: row.receivedAt,
  };
}

describe("queues, messages and tracking in DynamoDB and SQS", () => {
  const id = "20261124T100000Z-00000000aa01";

  test("queue get, message get and track read the tracking table; Submission and Poison are SQS counts", async () => {
    const row = deferredRow(id, "bob@fabrikam.com");
    await tracking.put(row);
    await tracking.addEvent({
      messageId: id,
      recipient: row.recipient,
      sender: row.sender,
      at: "2026-11-24T10:00:01.000Z",
      event: "ROUTE",
      source: "ROUTING",
      detail: 'send connector "To Internet"',
    });
    await tracking.addEvent({
      messageId: id,
      recipient: row.recipient,
      sender: row.sender,
      at: "2026-11-24T10:00:05.000Z",
      event: "DEFER",
      source: "SMTP",
      detail: row.lastError as string,
    });
    await submission.send({ id: "queued" } as unknown as SubmittedMessage);

    const dlqs = {
      RELAY_SUBMISSION_DLQ_URL: urls.submissionDlq as string,
      RELAY_DELIVERY_DLQ_URL: urls.deliveryDlq as string,
    };
    const queues = await json<Array<Record<string, unknown>>>(
      ["queue", "get", "--record-table", names.records],
      dlqs,
    );
    expect(queues).toEqual([
      {
        identity: "Submission",
        deliveryType: "Undefined",
        status: "Ready",
        messageCount: 1,
        nextHopDomain: "Submission",
      },
      {
        identity: "fabrikam.com",
        deliveryType: "Unknown",
        status: "Retry",
        messageCount: 1,
        nextHopDomain: "fabrikam.com",
        connector: "To Internet",
        lastError: row.lastError,
        nextRetryTime: row.nextRetryAt,
      },
      {
        identity: "Poison",
        deliveryType: "Undefined",
        status: "Ready",
        messageCount: 0,
        nextHopDomain: "Poison",
      },
    ]);
    const messages = await json<Array<Record<string, unknown>>>([
      "message",
      "get",
      "--queue",
      "fabrikam.com",
      "--record-table",
      names.records,
    ]);
    expect(messages).toEqual([
      expect.objectContaining({ identity: `fabrikam.com\\${id}`, status: "Retry", retryCount: 1 }),
    ]);
    const poison = await relay(
      ["message", "get", "--queue", "Poison", "--record-table", names.records],
      dlqs,
    );
    expect(poison.code).toBe(1);
    expect(poison.stderr).toMatch(/the Poison queue cannot be listed with --aws/);

    const log = await json<Array<{ eventId: string }>>(["track", "--message-id", id]);
    expect(log.map((l) => l.eventId)).toEqual(["RECEIVE", "ROUTE", "DEFER"]);
    expect((await json<unknown[]>(["track", "--recipient", "bob@fabrikam.com"])).length).toBe(3);
    const cleared = await submission.receive(10);
    for (const m of cleared) await submission.delete(m.receiptHandle);
  });

  test("suspend, then resume sends the job deliver parked in S3 to the delivery queue", async () => {
    expect((await relay(["message", "suspend", id])).code).toBe(0);
    expect((await tracking.get(id, "bob@fabrikam.com"))?.status).toBe("Suspended");
    // What deliver does when the job wakes and finds the recipient suspended.
    const row = deferredRow(id, "bob@fabrikam.com");
    await parkHeldJob(bodies, jobFor(row), [row.recipient]);

    const resumed = await json<{ jobs: string[] }>(["message", "resume", id]);
    expect(resumed).toMatchObject({ ok: true, action: "resume", jobs: [row.jobId] });
    expect((await tracking.get(id, "bob@fabrikam.com"))?.status).toBe("Deferred");
    const [sent] = await delivery.receive(10);
    expect(sent?.body).toMatchObject({ jobId: row.jobId, recipients: ["bob@fabrikam.com"] });
    await delivery.delete(sent!.receiptHandle);
    await expect(bodies.get(heldJobKey(row.jobId as string))).rejects.toThrow();
  });

  test("retry sends the retry deliver kept in the bucket now, an attempt ahead; the delayed original then finds itself superseded", async () => {
    const row = (await tracking.get(id, "bob@fabrikam.com")) as RecipientRow;
    expect(row).toMatchObject({ status: "Deferred", attempts: 1 });
    // What settle keeps when it sends the delayed retry (SQS hides that one until its delay ends).
    const original: DeliveryJob = { ...jobFor(row), notBefore: "2026-11-24T11:00:00.000Z" };
    await keepRetryJob(bodies, original);

    const retried = await json<{ jobs: string[]; recipients: string[] }>(["message", "retry", id]);
    expect(retried).toMatchObject({
      ok: true,
      action: "retry",
      jobs: [row.jobId],
      recipients: ["bob@fabrikam.com"],
    });
    const [sent] = await delivery.receive(10);
    expect(sent?.body).toMatchObject({
      jobId: row.jobId,
      attempts: 2,
      recipients: ["bob@fabrikam.com"],
    });
    expect(sent?.body.notBefore).toBeUndefined();
    await delivery.delete(sent!.receiptHandle);
    expect(await tracking.get(id, "bob@fabrikam.com")).toMatchObject({
      status: "Deferred",
      attempts: 2,
    });
    const kept = JSON.parse(
      Buffer.from(await bodies.get(retryJobKey(row.jobId as string))).toString(),
    );
    expect(kept).toMatchObject({ attempts: 2 });

    // The delayed original wakes in the deliver function: its rows are an attempt ahead, so it sends nothing.
    const env = relayEnv(
      { submission: urls.submission as string, delivery: urls.delivery as string },
      {
        [RELAY_ENV.bodyBucket]: names.bucket,
        [RELAY_ENV.recordTable]: names.records,
        [RELAY_ENV.trackingTable]: names.tracking,
      },
    );
    const quiet = { info() {}, warn() {}, error() {} };
    const { deps } = deliverDepsFromEnv(quiet, env, emu);
    const woke = await deliverJob(deps, { ...original, notBefore: "2026-11-24T10:00:00.000Z" });
    expect(woke).toEqual({
      kind: "nothing-to-do",
      reason: "every recipient is final or owned by a newer job",
    });
    expect(await tracking.get(id, "bob@fabrikam.com")).toMatchObject({
      status: "Deferred",
      attempts: 2,
    });
  });

  test("remove --with-ndr fails the recipients and queues the NDR to the submission queue", async () => {
    const r = await json<{ recipients: string[]; ndr: { sent: boolean } }>([
      "message",
      "remove",
      "--with-ndr",
      id,
      "--record-table",
      names.records,
    ]);
    expect(r).toMatchObject({ recipients: ["bob@fabrikam.com"], ndr: { sent: true } });
    expect(await tracking.get(id, "bob@fabrikam.com")).toMatchObject({
      status: "Failed",
      lastError: "Removed by administrator",
    });
    const [ndr] = await submission.receive(10);
    expect(ndr?.body).toMatchObject({
      envelope: { mailFrom: "", rcptTo: ["alice@contoso.com"] },
      origin: { type: "dsn", aboutMessageId: id },
    });
    await submission.delete(ndr!.receiptHandle);
  });

  test("queue retry moves the dead letters back to their source queues; without the DLQ URLs it says which flag", async () => {
    await deliveryDlq.send({ messageId: "20261124T100000Z-00000000aa02", jobId: "j" });
    const missing = await relay(["queue", "retry"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--submission-dlq-url \(or RELAY_SUBMISSION_DLQ_URL/);
    const r = await json<{ redriven: unknown[] }>([
      "queue",
      "retry",
      "--submission-dlq-url",
      urls.submissionDlq as string,
      "--delivery-dlq-url",
      urls.deliveryDlq as string,
    ]);
    expect(r.redriven).toEqual([
      { queue: "submission", moved: 0, released: [] },
      { queue: "delivery", moved: 1, released: [] },
    ]);
    expect(await emu.queueDepth(urls.deliveryDlq as string)).toBe(0);
    const [back] = await delivery.receive(10);
    expect(back?.body).toEqual({ messageId: "20261124T100000Z-00000000aa02", jobId: "j" });
  });
});
