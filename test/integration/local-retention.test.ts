// Local retention on a real disk and a real SQLite store: protocol logs rolled by size and pruned by age and directory size, finished tracking pruned by age.

import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, expect, test } from "vitest";
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { SILENT_LOG } from "#core/log.ts";
import type { RecipientRow, RecipientStatus } from "#core/ports.ts";
import { RecordCache } from "#core/records/cache.ts";
import { relayHome } from "#local/home.ts";
import { pruneLogFiles, RollingJsonLog } from "#local/log-files.ts";
import { startPipeline } from "#local/pipeline.ts";
import { Retention } from "#local/retention.ts";

const DAY = 86_400_000;
let dir: string;
let logs: string;
let tracking: LocalTrackingStore | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "local-retention-"));
  logs = join(dir, "logs");
});
afterEach(async () => {
  tracking?.close();
  tracking = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A log file of `size` bytes last written `ageDays` ago. */
async function logFile(name: string, size: number, ageDays: number): Promise<void> {
  await writeFile(join(logs, name), "x".repeat(size));
  const t = new Date(Date.now() - ageDays * DAY);
  await utimes(join(logs, name), t, t);
}
const files = async () => (await readdir(logs)).sort();
const today = () => new Date().toISOString().slice(0, 10).replace(/-/g, "");

test("a protocol log rolls to -2, -3… at the max file size, and a restart continues the last file", async () => {
  const log = new RollingJsonLog(logs, "receive", () => 1000);
  for (let i = 0; i < 30; i++) log.write({ i, line: "y".repeat(80) });
  await log.close();
  const day = today();
  const names = await files();
  expect(names).toContain(`receive-${day}.jsonl`);
  expect(names.length).toBeGreaterThanOrEqual(3);
  for (const n of names) expect((await stat(join(logs, n))).size).toBeLessThanOrEqual(1000);
  const last = names.length;
  expect(names).toContain(`receive-${day}-${last}.jsonl`);

  const again = new RollingJsonLog(logs, "receive", () => 1000);
  again.write({ i: 30 });
  await again.close();
  expect(await files()).toHaveLength(last);
  const tail = await readFile(join(logs, `receive-${day}-${last}.jsonl`), "utf8");
  expect(tail.trim().split("\n").at(-1)).toBe('{"i":30}');
  const all = [];
  for (let n = 1; n <= last; n++) {
    const name = n === 1 ? `receive-${day}.jsonl` : `receive-${day}-${n}.jsonl`;
    all.push(...(await readFile(join(logs, name), "utf8")).trim().split("\n"));
  }
  expect(all.map((l) => JSON.parse(l).i)).toEqual(Array.from({ length: 31 }, (_, i) => i));
});

test("files older than the max age go; recent ones, other logs and other files stay", async () => {
  await mkdir(logs);
  await logFile("receive-20260101.jsonl", 100, 45);
  await logFile("receive-20260102-2.jsonl", 100, 31);
  await logFile("receive-20260201.jsonl", 100, 29);
  await logFile("receive-20260301.jsonl", 100, 0);
  await logFile("send-20260101.jsonl", 100, 45);
  await logFile("notes.txt", 100, 400);
  const limits = { maxAgeMs: 30 * DAY, maxDirectoryBytes: 1e9, maxFileBytes: 1e6 };
  const deleted = await pruneLogFiles(logs, "receive", limits, Date.now());
  expect(deleted).toEqual(["receive-20260101.jsonl", "receive-20260102-2.jsonl"]);
  expect(await files()).toEqual([
    "notes.txt",
    "receive-20260201.jsonl",
    "receive-20260301.jsonl",
    "send-20260101.jsonl",
  ]);
});

test("beyond the directory size the oldest files go first, and the newest is kept even alone", async () => {
  await mkdir(logs);
  for (let d = 1; d <= 5; d++) await logFile(`send-2026010${d}.jsonl`, 1000, 10 - d);
  const limits = { maxAgeMs: 30 * DAY, maxDirectoryBytes: 2500, maxFileBytes: 1000 };
  expect(await pruneLogFiles(logs, "send", limits, Date.now())).toEqual([
    "send-20260101.jsonl",
    "send-20260102.jsonl",
    "send-20260103.jsonl",
  ]);
  expect(await files()).toEqual(["send-20260104.jsonl", "send-20260105.jsonl"]);
  await logFile("send-20260105.jsonl", 5000, 0);
  await pruneLogFiles(logs, "send", { ...limits, maxDirectoryBytes: 100 }, Date.now());
  expect(await files()).toEqual(["send-20260105.jsonl"]);
});

function row(messageId: string, recipient: string, status: RecipientStatus, ageDays: number) {
  const at = new Date(Date.now() - ageDays * DAY).toISOString();
  return {
    messageId,
    recipient,
    sender: "app@contoso.com",
    status,
    receivedAt: at,
    updatedAt: at,
    attempts: 1,
  } satisfies RecipientRow;
}

async function track(store: LocalTrackingStore, r: RecipientRow): Promise<void> {
  await store.put(r);
  await store.addEvent({
    messageId: r.messageId,
    recipient: r.recipient,
    at: r.updatedAt,
    event: "RECEIVE",
    source: "SMTP",
  });
}
const settle = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function retention(clock?: { now(): Date }, settings: object = {}) {
  const records = new LocalRecordStore(join(dir, "records"));
  await records.put({ kind: "TransportSettings", name: "default", ...settings });
  tracking = new LocalTrackingStore(join(dir, "tracking.db"));
  return new Retention({
    protocolLogs: logs,
    records: new RecordCache(records, { ttlMs: 0 }),
    tracking,
    log: SILENT_LOG,
    batchSize: 2,
    ...(clock ? { clock } : {}),
  });
}

test("finished messages older than MessageTrackingLogMaxAge go with their events; active and recent ones stay", async () => {
  const r = await retention(undefined, { messageTrackingLogMaxAgeDays: 10 });
  const store = tracking!;
  for (let i = 0; i < 5; i++)
    await track(store, row(`old-${i}`, "a@fabrikam.com", "Delivered", 11));
  await track(store, row("failed-old", "a@fabrikam.com", "Failed", 40));
  await track(store, row("recent", "a@fabrikam.com", "Delivered", 9));
  await track(store, row("queued-old", "a@fabrikam.com", "Queued", 40));
  await track(store, row("suspended-old", "a@fabrikam.com", "Suspended", 40));
  // One recipient done long ago, the other still retrying: the message keeps everything.
  await track(store, row("split", "done@fabrikam.com", "Delivered", 40));
  await track(store, row("split", "retry@fabrikam.com", "Deferred", 40));
  await settle();

  const run = await r.runOnce();
  expect(run.trackedMessages).toBe(6);
  await settle();
  for (const id of ["old-0", "old-4", "failed-old"]) {
    expect(await store.listByMessage(id)).toEqual([]);
    expect(await store.events({ messageId: id })).toEqual([]);
  }
  expect((await store.listByMessage("recent")).map((x) => x.status)).toEqual(["Delivered"]);
  expect(await store.events({ messageId: "recent" })).toHaveLength(1);
  expect((await store.listActive()).map((x) => x.messageId).sort()).toEqual([
    "queued-old",
    "split",
    "suspended-old",
  ]);
  expect(await store.listByMessage("split")).toHaveLength(2);
  expect((await r.runOnce()).trackedMessages).toBe(0);
});

test("with no setting, 30 days; an injected clock ages rows and log files alike", async () => {
  const now = { t: Date.now() };
  const r = await retention({ now: () => new Date(now.t) });
  await track(tracking!, row("m1", "a@fabrikam.com", "Delivered", 0));
  const log = new RollingJsonLog(logs, "receive");
  log.write({ a: 1 });
  await log.close();
  await logFile("receive-20200101.jsonl", 10, 2);
  await settle();

  now.t += 29 * DAY;
  expect(await r.runOnce()).toEqual({
    logFiles: { receive: ["receive-20200101.jsonl"], send: [] },
    trackedMessages: 0,
  });
  expect(await files()).toEqual([`receive-${today()}.jsonl`]);
  now.t += 2 * DAY;
  expect(await r.runOnce()).toEqual({
    logFiles: { receive: [`receive-${today()}.jsonl`], send: [] },
    trackedMessages: 1,
  });
  expect(await files()).toEqual([]);
});

test("a tracking database made before retention gets its column filled and is pruned too", async () => {
  const path = join(dir, "tracking.db");
  const old = new DatabaseSync(path);
  old.exec(`CREATE TABLE recipients (
    message_id TEXT NOT NULL, recipient_lc TEXT NOT NULL, status TEXT NOT NULL,
    sender_lc TEXT NOT NULL, row TEXT NOT NULL, PRIMARY KEY (message_id, recipient_lc))`);
  const r = row("legacy", "a@fabrikam.com", "Expired", 50);
  old
    .prepare("INSERT INTO recipients VALUES (?, ?, ?, ?, ?)")
    .run(r.messageId, r.recipient, r.status, r.sender, JSON.stringify(r));
  old.close();
  tracking = new LocalTrackingStore(path);
  expect(await tracking.listByMessage("legacy")).toHaveLength(1);
  expect(tracking.pruneFinished(new Date(Date.now() - 30 * DAY), 10)).toBe(1);
  await settle();
  expect(await tracking.listByMessage("legacy")).toEqual([]);
});

test("local mode's delivery thread runs retention on its own: old logs and finished tracking go", async () => {
  const home = relayHome(dir);
  logs = home.protocolLogs;
  await mkdir(logs, { recursive: true });
  await logFile("send-20200101.jsonl", 100, 31);
  await logFile("receive-20200101.jsonl", 100, 31);
  await logFile(`receive-${today()}.jsonl`, 100, 0);
  const before = new LocalTrackingStore(home.tracking);
  await track(before, row("done", "a@fabrikam.com", "Delivered", 31));
  await track(before, row("waiting", "a@fabrikam.com", "Deferred", 31));
  await settle();
  before.close();

  const pipeline = await startPipeline({ home, retentionFirstRunMs: 0 }, SILENT_LOG);
  try {
    tracking = new LocalTrackingStore(home.tracking);
    for (let i = 0; i < 100 && (await files()).length > 1; i++) await sleep(50);
    expect(await files()).toEqual([`receive-${today()}.jsonl`]);
    expect(await tracking.listByMessage("done")).toEqual([]);
    expect(await tracking.listByMessage("waiting")).toHaveLength(1);
  } finally {
    await pipeline.stop();
  }
});
