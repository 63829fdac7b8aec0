// Delivery events to a webhook in local mode, as JSON: what an event costs deliver (the durable outbox insert) and how long until the receiver has it, against a bare POST.
//
//   ./node_modules/.bin/node bench/events.ts [--events 500]
//
// Peer: the same events POSTed straight from a loop with fetch (no outbox, no signature, no
// retry state): the floor for the transport. The relay: LocalEventOutbox.publish (SQLite,
// synchronous=FULL) as deliver calls it, drained by the event worker with signatures. Receiver: a
// node:http server on 127.0.0.1:0 answering 204.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { LocalEventOutbox } from "#adapters/local/event-outbox.ts";
import { MemorySecretStore } from "#adapters/memory/secret-store.ts";
import type { DeliveryEvent } from "#core/events/delivery-event.ts";
import { SILENT_LOG } from "#core/log.ts";
import { startEventWorker } from "#local/event-worker.ts";
import { percentiles, round } from "./stats.ts";

const { values } = parseArgs({ options: { events: { type: "string", default: "500" } } });
const n = Number(values.events);

const received = new Map<string, number>();
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    received.set(String(req.headers["x-relay-event-id"]), performance.now());
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

const event = (i: number, run: string): DeliveryEvent => ({
  eventId: `${run}-${i}`,
  type: "delivered",
  time: new Date().toISOString(),
  messageId: `m${i}`,
  sender: "app@contoso.test",
  recipient: `r${i}@fabrikam.test`,
  connector: "To Internet",
  nextHop: "fabrikam.test",
  remoteHost: "mx1.fabrikam.test[192.0.2.25]",
  reply: "250 2.0.0 OK",
  enhancedStatus: "2.0.0",
  attempt: 1,
});

async function waitAll(run: string): Promise<void> {
  while ([...Array(n).keys()].some((i) => !received.has(`${run}-${i}`)))
    await new Promise((r) => setTimeout(r, 5));
}

// Peer: bare POSTs, 8 at a time (the worker's batch).
const peerSent = new Map<string, number>();
const peerStart = performance.now();
for (let i = 0; i < n; i += 8)
  await Promise.all(
    [...Array(Math.min(8, n - i)).keys()].map((k) => {
      const e = event(i + k, "peer");
      peerSent.set(e.eventId, performance.now());
      return fetch(url, {
        method: "POST",
        headers: { "x-relay-event-id": e.eventId },
        body: JSON.stringify(e),
      }).then((r) => r.body?.cancel());
    }),
  );
await waitAll("peer");
const peerMs = performance.now() - peerStart;

// The relay: publish as deliver does (one event per call), the worker drains in the background.
const dir = await mkdtemp(join(tmpdir(), "relay-bench-events-"));
const outbox = new LocalEventOutbox(join(dir, "events.db"), () => [{ url, secret: "hook" }]);
const worker = startEventWorker({
  outbox,
  secrets: new MemorySecretStore({ hook: "whsec_bench" }),
  log: SILENT_LOG,
});
const publishMs: number[] = [];
const published = new Map<string, number>();
const relayStart = performance.now();
for (let i = 0; i < n; i++) {
  const e = event(i, "relay");
  const t0 = performance.now();
  await outbox.publish([e]);
  publishMs.push(performance.now() - t0);
  published.set(e.eventId, t0);
}
await waitAll("relay");
const relayMs = performance.now() - relayStart;
await worker.stop();
outbox.close();
await rm(dir, { recursive: true, force: true });
server.close();

const lag = (sent: Map<string, number>) =>
  percentiles([...sent].map(([id, t]) => (received.get(id) ?? t) - t));
process.stdout.write(
  `${JSON.stringify(
    {
      events: n,
      peer: { eventsPerSecond: round((n / peerMs) * 1000), lagMs: lag(peerSent) },
      relay: {
        eventsPerSecond: round((n / relayMs) * 1000),
        publishMs: percentiles(publishMs),
        lagMs: lag(published),
      },
    },
    null,
    2,
  )}\n`,
);
