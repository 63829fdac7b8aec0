// The local-mode adapters (files, SQLite queues and tracking) pass the shared port contracts.
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { expect, test } from "vitest";
import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { openQueueStore } from "#adapters/local/queue.ts";
import { LocalRateCounterStore } from "#adapters/local/rate-counter-store.ts";
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import { LocalSuppressionStore } from "#adapters/local/suppression-store.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { queueContract } from "#test/contract/queue.ts";
import { rateCounterStoreContract } from "#test/contract/rate-counter-store.ts";
import {
  messageStoreContract,
  recordStoreContract,
  secretStoreContract,
} from "#test/contract/stores.ts";
import { suppressionStoreContract } from "#test/contract/suppression-store.ts";
import { trackingStoreContract } from "#test/contract/tracking-store.ts";
import { ManualClock } from "#test/support/clock.ts";

const tmp = () => mkdtemp(join(tmpdir(), "relay-contract-"));

trackingStoreContract(
  "local SQLite",
  async () => new LocalTrackingStore(join(await tmp(), "tracking.db")),
);
messageStoreContract("local files", async () => LocalMessageStore.open(await tmp()));
recordStoreContract("local files", async () => new LocalRecordStore(await tmp()));
secretStoreContract("local encrypted files", async (secrets) => {
  const s = await LocalSecretStore.open(await tmp());
  for (const [k, v] of Object.entries(secrets)) await s.set(k, v);
  return s;
});
rateCounterStoreContract("local SQLite", async () => {
  const clock = new ManualClock();
  const path = join(await tmp(), "limits.db");
  return {
    store: new LocalRateCounterStore(path, clock),
    other: new LocalRateCounterStore(path, clock),
    advance: async (ms) => clock.advance(ms),
  };
});
suppressionStoreContract("local SQLite", async () => {
  const clock = new ManualClock("2026-11-24T10:00:00.000Z");
  const path = join(await tmp(), "suppression.db");
  return {
    store: new LocalSuppressionStore(path, clock),
    other: new LocalSuppressionStore(path, clock),
    advance: async (ms) => clock.advance(ms),
  };
});
queueContract("local SQLite queues", async () => {
  const clock = new ManualClock();
  return {
    queue: openQueueStore(join(await tmp(), "queues.db")).queue<{ n: number }>("q", { clock }),
    advance: async (ms) => clock.advance(ms),
  };
});

test("local secrets are encrypted at rest and readable again after reopening", async () => {
  const dir = await tmp();
  const s = await LocalSecretStore.open(dir);
  await s.set("smarthost/relay1", '{"username":"printer","password":"Sup3r-Secret"}');
  const files = await readdir(dir);
  for (const f of files.filter((n) => !n.startsWith("."))) {
    expect(await readFile(join(dir, f), "utf8")).not.toContain("Sup3r-Secret");
  }
  expect(
    JSON.parse(await (await LocalSecretStore.open(dir)).get("smarthost/relay1")).password,
  ).toBe("Sup3r-Secret");
});

test("local tracking commits each event-loop turn's writes together, visible to another process's connection", async () => {
  const path = join(await tmp(), "tracking.db");
  const relay = new LocalTrackingStore(path);
  const cli = new LocalTrackingStore(path);
  const row = {
    messageId: "m1",
    recipient: "a@contoso.com",
    sender: "s@fabrikam.com",
    status: "Routed" as const,
    receivedAt: "2026-11-24T10:00:00.000Z",
    updatedAt: "2026-11-24T10:00:00.000Z",
    attempts: 0,
  };
  await relay.create(row);
  await relay.addEvent({ messageId: "m1", at: row.receivedAt, event: "ROUTE", source: "ROUTING" });
  expect(await cli.get("m1", "a@contoso.com")).toBeUndefined(); // not committed within the turn
  await new Promise((r) => setImmediate(r));
  expect((await cli.get("m1", "a@contoso.com"))?.status).toBe("Routed");
  expect(
    await cli.update("m1", "a@contoso.com", { status: "Suspended" }, { ifStatusIn: ["Routed"] }),
  ).toBe(true);
  await new Promise((r) => setImmediate(r));
  expect(
    await relay.update(
      "m1",
      "a@contoso.com",
      { status: "Delivered" },
      { ifStatusIn: ["Routed", "Deferred"] },
    ),
  ).toBe(false);
  expect((await relay.events({ messageId: "m1" })).map((e) => e.event)).toEqual(["ROUTE"]);
  relay.close();
  cli.close();
});

test("a tracking database made before events lived on rows: its event log is still read, new events go on the rows", async () => {
  const path = join(await tmp(), "tracking.db");
  const old = new DatabaseSync(path);
  old.exec(`
    CREATE TABLE recipients (
      message_id TEXT NOT NULL, recipient_lc TEXT NOT NULL, status TEXT NOT NULL,
      sender_lc TEXT NOT NULL, row TEXT NOT NULL, updated_at TEXT, PRIMARY KEY (message_id, recipient_lc));
    CREATE TABLE events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, recipient_lc TEXT,
      sender_lc TEXT, event TEXT NOT NULL);`);
  const row = {
    messageId: "m1",
    recipient: "a@contoso.com",
    sender: "app@fabrikam.com",
    status: "Routed",
    receivedAt: "2026-11-24T10:00:00.000Z",
    updatedAt: "2026-11-24T10:00:00.000Z",
    attempts: 0,
  } as const;
  const route = { ...row, at: row.receivedAt, event: "ROUTE", source: "ROUTING" };
  old
    .prepare("INSERT INTO recipients VALUES (?, ?, ?, ?, ?, ?)")
    .run("m1", "a@contoso.com", "Routed", "app@fabrikam.com", JSON.stringify(row), row.updatedAt);
  old
    .prepare("INSERT INTO events (message_id, recipient_lc, sender_lc, event) VALUES (?, ?, ?, ?)")
    .run("m1", "a@contoso.com", "app@fabrikam.com", JSON.stringify(route));
  old.close();

  const store = new LocalTrackingStore(path);
  const deliver = { at: "2026-11-24T10:00:02.000Z", event: "DELIVER" as const, source: "SMTP" };
  expect(
    await store.update(
      "m1",
      "a@contoso.com",
      { status: "Delivered", attempts: 1 },
      { ifStatusIn: ["Routed"], event: deliver },
    ),
  ).toBe(true);
  for (const query of [
    { messageId: "m1" },
    { recipient: "A@contoso.com" },
    { sender: "app@fabrikam.com" },
  ])
    expect((await store.events(query)).map((e) => e.event)).toEqual(["ROUTE", "DELIVER"]);
  store.close();
});

test("local counters survive reopening the file (a relay restart keeps its lockouts)", async () => {
  const path = join(await tmp(), "limits.db");
  const before = new LocalRateCounterStore(path);
  await before.increment("lock:ip:192.0.2.7", 900);
  before.close();
  expect((await new LocalRateCounterStore(path).get("lock:ip:192.0.2.7"))?.count).toBe(1);
});
