// The MTA-STS policy cache passes one contract on memory, local SQLite and DynamoDB (dynalite), and is shared between instances.
import { randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { DynamoMtaStsPolicyStore } from "#adapters/aws/dynamodb-mta-sts.ts";
import { DynamoTrackingStore } from "#adapters/aws/dynamodb-tracking.ts";
import { LocalMtaStsPolicyStore } from "#adapters/local/mta-sts-store.ts";
import { MemoryMtaStsPolicyStore } from "#adapters/memory/mta-sts-store.ts";
import { mtaStsPolicyStoreContract } from "#test/contract/mta-sts-store.ts";
import { type AwsEmulators, startAwsEmulators } from "#test/support/aws-emulators.ts";

let started: Promise<AwsEmulators> | undefined;
const emulators = () => {
  started ??= startAwsEmulators();
  return started;
};
afterAll(async () => {
  if (started) await (await started).stop();
});

async function trackingTable(): Promise<{ emu: AwsEmulators; tableName: string }> {
  const emu = await emulators();
  const tableName = `tracking-${randomUUID().slice(0, 8)}`;
  await emu.createTrackingTable(tableName);
  return { emu, tableName };
}

const policy = {
  domain: "contoso.com",
  id: "20261124",
  mode: "enforce" as const,
  mx: ["mx1.contoso.com"],
  maxAgeSeconds: 86_400,
  fetchedAt: "2026-11-24T10:00:00.000Z",
  expiresAt: "2026-11-25T10:00:00.000Z",
};

mtaStsPolicyStoreContract("memory", async () => new MemoryMtaStsPolicyStore());
mtaStsPolicyStoreContract(
  "local SQLite",
  async () =>
    new LocalMtaStsPolicyStore(join(await mkdtemp(join(tmpdir(), "relay-sts-")), "tracking.db")),
);
mtaStsPolicyStoreContract("DynamoDB on dynalite", async () => {
  const { emu, tableName } = await trackingTable();
  return new DynamoMtaStsPolicyStore({ client: emu.dynamo, tableName });
});

test("local: a policy one process cached is read by another opening the same database", async () => {
  const path = join(await mkdtemp(join(tmpdir(), "relay-sts-")), "tracking.db");
  const a = new LocalMtaStsPolicyStore(path);
  const b = new LocalMtaStsPolicyStore(path);
  await a.put(policy);
  expect(await b.get("contoso.com")).toEqual(policy);
  a.close();
  b.close();
});

test("DynamoDB: the policy item lives in the tracking table without disturbing the queue or tracking views", async () => {
  const { emu, tableName } = await trackingTable();
  await new DynamoMtaStsPolicyStore({ client: emu.dynamo, tableName }).put(policy);
  expect(
    await new DynamoMtaStsPolicyStore({ client: emu.dynamo, tableName }).get("contoso.com"),
  ).toEqual(policy);
  const tracking = new DynamoTrackingStore({ client: emu.dynamo, tableName });
  expect(await tracking.listActive()).toEqual([]);
  expect(await tracking.events({})).toEqual([]);
});
