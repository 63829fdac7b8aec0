// A listener in its own process on the durable local queues, for tests that kill it: `node test/support/listener-process.ts`.

import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { openQueueStore } from "#adapters/local/queue.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import type { SubmittedMessage } from "#core/message.ts";
import { RecordCache } from "#core/records/cache.ts";
import { listenerLog } from "#listener/logger.ts";
import { runListener } from "#listener/run.ts";

/*
 * Environment: QUEUES (the queue database; the listener writes its "submission" queue), BODIES_DIR (message store), RECORDS (JSON array of raw
 * records), INLINE_BODY_LIMIT (optional). Prints one JSON line {"port": n} on stdout once it listens;
 * logs go to stderr.
 */
const env = process.env;
const queue = openQueueStore(env.QUEUES ?? "queues.db").queue<SubmittedMessage>("submission");
const messageStore = await LocalMessageStore.open(env.BODIES_DIR ?? "bodies");
const records = new RecordCache(new MemoryRecordStore(JSON.parse(env.RECORDS ?? "[]")), {
  ttlMs: 60_000,
});
const running = await runListener(
  {
    records,
    queue,
    messageStore,
    logger: listenerLog(process.stderr),
    config: {
      hostName: "relay.test",
      bindPorts: { "25": 0 },
      shutdownDeadlineMs: 5_000,
      ...(env.INLINE_BODY_LIMIT ? { inlineBodyLimit: Number(env.INLINE_BODY_LIMIT) } : {}),
    },
  },
  { handleSignals: true },
);
process.stdout.write(`${JSON.stringify({ port: running.listener.addresses()[0]?.actualPort })}\n`);
