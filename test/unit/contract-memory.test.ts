// The in-memory adapters pass the shared port contracts.
import { MemoryMessageStore } from "#adapters/memory/message-store.ts";
import { MemoryQueue } from "#adapters/memory/queue.ts";
import { MemoryRateCounterStore } from "#adapters/memory/rate-counter-store.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import { MemorySecretStore } from "#adapters/memory/secret-store.ts";
import { MemorySuppressionStore } from "#adapters/memory/suppression-store.ts";
import { MemoryTrackingStore } from "#adapters/memory/tracking-store.ts";
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

trackingStoreContract("memory", async () => new MemoryTrackingStore());
messageStoreContract("memory", async () => new MemoryMessageStore());
recordStoreContract("memory", async () => new MemoryRecordStore());
secretStoreContract("memory", async (s) => new MemorySecretStore(s));
queueContract("memory", async () => {
  const clock = new ManualClock();
  return {
    queue: new MemoryQueue<{ n: number }>({ clock }),
    advance: async (ms) => clock.advance(ms),
  };
});
rateCounterStoreContract("memory", async () => {
  const clock = new ManualClock();
  return { store: new MemoryRateCounterStore(clock), advance: async (ms) => clock.advance(ms) };
});
suppressionStoreContract("memory", async () => {
  const clock = new ManualClock("2026-11-24T10:00:00.000Z");
  const store = new MemorySuppressionStore(clock);
  return { store, other: store, advance: async (ms) => clock.advance(ms) };
});
