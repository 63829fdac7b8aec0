// The next-hop state store passes one contract in memory, in local SQLite (two handles on one file) and on DynamoDB (dynalite).
import { randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { DynamoHopStateStore } from "#adapters/aws/dynamodb-hop-state.ts";
import { LocalHopStateStore } from "#adapters/local/hop-state-store.ts";
import { MemoryHopStateStore } from "#adapters/memory/hop-state-store.ts";
import { hopStateStoreContract } from "#test/contract/hop-state-store.ts";
import { type AwsEmulators, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { ManualClock } from "#test/support/clock.ts";

let started: Promise<AwsEmulators> | undefined;
afterAll(async () => {
  if (started) await (await started).stop();
});

hopStateStoreContract("memory", async () => {
  const clock = new ManualClock();
  const store = new MemoryHopStateStore(clock);
  return { store, other: store, clock, advance: async (ms) => clock.advance(ms) };
});

hopStateStoreContract("local SQLite", async () => {
  const clock = new ManualClock();
  const path = join(await mkdtemp(join(tmpdir(), "relay-hops-")), "limits.db");
  return {
    store: new LocalHopStateStore(path, clock),
    other: new LocalHopStateStore(path, clock),
    clock,
    advance: async (ms) => clock.advance(ms),
  };
});

hopStateStoreContract("DynamoDB on dynalite", async () => {
  started ??= startAwsEmulators();
  const emu = await started;
  const tableName = `limits-${randomUUID().slice(0, 8)}`;
  await emu.createLimitsTable(tableName);
  const clock = new ManualClock(new Date());
  const store = () => new DynamoHopStateStore({ client: emu.dynamo, tableName, clock });
  return { store: store(), other: store(), clock, advance: async (ms) => clock.advance(ms) };
});
