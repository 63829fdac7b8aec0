// The local-mode adapters (files, fsynced spool, SQLite) pass the shared port contracts.
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import { LocalQueue } from "#adapters/local/spool.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { queueContract } from "#test/contract/queue.ts";
import {
  messageStoreContract,
  recordStoreContract,
  secretStoreContract,
} from "#test/contract/stores.ts";
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
queueContract("local spool", async () => {
  const clock = new ManualClock();
  return {
    queue: await LocalQueue.open<{ n: number }>(await tmp(), { clock }),
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
