// The DynamoDB tracking store beyond the shared contract, on dynalite: its items, indexes and TTL.
import { randomUUID } from "node:crypto";
import { GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, test } from "vitest";
import { DynamoTrackingStore } from "#adapters/aws/dynamodb-tracking.ts";
import { type AwsEmulators, startAwsEmulators } from "#test/support/aws-emulators.ts";

let started: Promise<AwsEmulators> | undefined;
afterAll(async () => {
  if (started) await (await started).stop();
});

async function newTrackingStore() {
  started ??= startAwsEmulators();
  const emu = await started;
  const tableName = `tracking-${randomUUID().slice(0, 8)}`;
  await emu.createTrackingTable(tableName);
  return { emu, tableName, store: new DynamoTrackingStore({ client: emu.dynamo, tableName }) };
}

describe("DynamoTrackingStore beyond the contract", () => {
  const row = {
    messageId: "m1",
    recipient: "a@contoso.com",
    sender: "",
    status: "Routed" as const,
    receivedAt: "2026-11-24T10:00:00.000Z",
    updatedAt: "2026-11-24T10:00:00.000Z",
    attempts: 0,
  };

  test("a row created Routed is listed once written again; it leaves the queue view when final and returns if set active again", async () => {
    const { store } = await newTrackingStore();
    await store.create(row);
    // On its way to its first attempt: found by message id only (no index writes).
    expect(await store.listActive()).toEqual([]);
    expect((await store.listByMessage("m1")).map((r) => r.status)).toEqual(["Routed"]);
    await store.update(
      "m1",
      "a@contoso.com",
      { updatedAt: row.updatedAt },
      { ifStatusIn: ["Routed"] },
    );
    expect((await store.listActive()).map((r) => r.recipient)).toEqual(["a@contoso.com"]);
    await store.update("m1", "a@contoso.com", { status: "Failed", lastError: "550 5.1.1" });
    expect(await store.listActive()).toEqual([]);
    await store.update("m1", "a@contoso.com", { status: "Queued", lastError: undefined });
    const [again] = await store.listActive();
    expect(again).toEqual({ ...row, status: "Queued" });
  });

  test("a delivered recipient is one item with its events, in the sender and recipient indexes and out of the queue view", async () => {
    const { emu, tableName, store } = await newTrackingStore();
    const route = { at: row.receivedAt, event: "ROUTE" as const, source: "ROUTING" };
    await store.create(row, route);
    const deliver = { at: "2026-11-24T10:00:02.000Z", event: "DELIVER" as const, source: "SMTP" };
    const delivered = { status: "Delivered" as const, attempts: 1, updatedAt: deliver.at };
    await store.update("m1", "a@contoso.com", delivered, {
      ifStatusIn: ["Routed"],
      event: deliver,
    });
    const items = await emu.dynamo.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: "MSG#m1" } },
      }),
    );
    expect(items.Items).toHaveLength(1);
    const [item] = items.Items ?? [];
    expect(item?.events?.L?.map((e) => e.M?.event?.S)).toEqual(["ROUTE", "DELIVER"]);
    expect(item?.eventSort?.S).toBeDefined();
    expect(item?.activeShard).toBeUndefined();
    const found = (list: { event: string }[]) => list.map((e) => e.event);
    expect(found(await store.events({ recipient: "A@contoso.com" }))).toEqual(["ROUTE", "DELIVER"]);
    expect(found(await store.events({ sender: "<>" }))).toEqual(["ROUTE", "DELIVER"]);
    expect(await store.listActive()).toEqual([]);
  });

  test("items expire by TTL 30 days after receipt by default", async () => {
    const { emu, tableName, store } = await newTrackingStore();
    await store.create(row);
    const raw = await emu.dynamo.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: "MSG#m1" }, sk: { S: "RCPT#a@contoso.com" } },
      }),
    );
    expect(Number(raw.Item?.expiresAt?.N)).toBe(Date.parse(row.receivedAt) / 1000 + 30 * 86_400);
  });

  test("events of a bounce (null sender) are found by sender <> or empty", async () => {
    const { store } = await newTrackingStore();
    await store.addEvent({
      messageId: "ndr1",
      sender: "",
      at: row.receivedAt,
      event: "RECEIVE",
      source: "DSN",
    });
    expect((await store.events({ sender: "" })).map((e) => e.messageId)).toEqual(["ndr1"]);
    expect((await store.events({ sender: "<>" })).map((e) => e.messageId)).toEqual(["ndr1"]);
    expect((await store.events({})).map((e) => e.event)).toEqual(["RECEIVE"]);
  });
});
