// Upgrading a RELAY_HOME that an older relay left with its file-per-message spool: every spooled
// message is moved into the queue database at start (ids, delays, receive counts kept) and delivered.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { openQueueStore } from "#adapters/local/queue.ts";
import type { SubmittedMessage } from "#core/message.ts";
import { QUEUE, relayHome } from "#local/home.ts";
import {
  appsConnector,
  freePort,
  smartHostConnector,
  startRelayProcess,
  waitFor,
  writeRecords,
} from "#test/support/relay-process.ts";
import { startSink } from "#test/support/sink.ts";

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

/** A file as the old spool wrote it: `<id>~<visibleAtMs>~<receiveCount>` holding `{ id, sentAt, body }`. */
async function spoolFile(
  home: string,
  queue: string,
  m: { id: string; visibleAt: number; receiveCount: number; body: unknown },
) {
  const dir = join(home, "queues", queue);
  await mkdir(join(dir, ".tmp"), { recursive: true });
  const name = `${m.id}~${m.visibleAt}~${m.receiveCount}`;
  await writeFile(
    join(dir, name),
    JSON.stringify({ id: m.id, sentAt: 1_700_000_000_000, body: m.body }),
  );
}

const submission = (n: number, to: string): SubmittedMessage => ({
  id: `20261124T100000Z-old${n}`,
  receivedAt: new Date().toISOString(),
  envelope: { mailFrom: "app@contoso.com", rcptTo: [to] },
  size: 60,
  body: {
    inline: Buffer.from(
      `From: app@contoso.com\r\nTo: ${to}\r\nSubject: spooled ${n}\r\nMessage-ID: <old-${n}@contoso.com>\r\n\r\nbody ${n}\r\n`,
    ).toString("base64"), // inline bodies are base64, as the listener queues them
  },
  origin: {
    type: "smtp",
    receiveConnector: "Load",
    clientIp: "127.0.0.1",
    clientHelo: "app",
    tls: false,
  },
  subject: `spooled ${n}`,
});

test("the old spool's files are imported once, with their state, and removed", async () => {
  const home = await mkdtemp(join(tmpdir(), "relay-upgrade-"));
  cleanup.push(() => rm(home, { recursive: true, force: true }));
  const now = Date.now();
  await spoolFile(home, "submission", {
    id: "0000000a1-0001-aaaaaaaa",
    visibleAt: now,
    receiveCount: 0,
    body: { n: 1 },
  });
  await spoolFile(home, "delivery", {
    id: "0000000a2-0002-bbbbbbbb",
    visibleAt: now + 60_000,
    receiveCount: 2,
    body: { n: 2 },
  });
  await spoolFile(home, "delivery-dlq", {
    id: "0000000a3-0003-cccccccc",
    visibleAt: now,
    receiveCount: 0,
    body: { n: 3 },
  });
  await writeFile(join(home, "queues", "submission", ".tmp", "half"), '{"id":"x","bo'); // never acknowledged

  const store = openQueueStore(relayHome(home).queues);
  expect(store.imported).toBe(3);
  expect(await readdir(join(home, "queues"))).not.toContain("submission");
  expect((await readdir(join(home, "queues"))).filter((f) => !f.startsWith("queues.db"))).toEqual(
    [],
  );
  expect(await store.queue(QUEUE.delivery).list()).toEqual([
    {
      messageId: "0000000a2-0002-bbbbbbbb",
      visibleAt: now + 60_000,
      receiveCount: 2,
      sentAt: 1_700_000_000_000,
      body: { n: 2 },
    },
  ]);
  expect((await store.queue(QUEUE.deliveryDlq).list()).map((m) => m.body)).toEqual([{ n: 3 }]);
  const [m] = await store.queue(QUEUE.submission).receive();
  expect(m).toMatchObject({
    messageId: "0000000a1-0001-aaaaaaaa",
    receiveCount: 1,
    body: { n: 1 },
  });
  store.close();

  // A crash after the import committed but before the files were gone: importing again adds nothing.
  await spoolFile(home, "delivery", {
    id: "0000000a2-0002-bbbbbbbb",
    visibleAt: now,
    receiveCount: 0,
    body: { n: 2 },
  });
  const again = openQueueStore(relayHome(home).queues);
  expect(again.imported).toBe(0);
  expect(await again.queue(QUEUE.delivery).size()).toBe(1);
  again.close();
});

test("a relay started on an old RELAY_HOME delivers what the old spool held", async () => {
  const home = await mkdtemp(join(tmpdir(), "relay-upgrade-"));
  cleanup.push(() => rm(home, { recursive: true, force: true }));
  const sink = await startSink();
  cleanup.push(() => sink.close());
  const port = await freePort();
  await writeRecords(home, [
    appsConnector(port, { name: "Load" }),
    smartHostConnector(`127.0.0.1:${sink.port}`, "Sink"),
  ]);
  const now = Date.now();
  for (const n of [1, 2, 3])
    await spoolFile(home, "submission", {
      id: `0000000b${n}-000${n}-dddddddd`,
      visibleAt: now,
      // The third was in flight when the old relay stopped: it comes back at start.
      receiveCount: n === 3 ? 1 : 0,
      body: submission(n, `user${n}@fabrikam.com`),
    });

  const relay = startRelayProcess(home);
  cleanup.push(() => relay.stop());
  await relay.ready;
  await waitFor("the three spooled messages at the sink", () => sink.received.length >= 3, 60_000);
  const subjects = sink.received
    .map((r) => /Subject: ([^\r\n]*)/.exec(r.raw.toString("latin1"))?.[1])
    .sort();
  expect(subjects).toEqual(["spooled 1", "spooled 2", "spooled 3"]);
  expect(relay.stderr()).toMatch(/messages of the old file spool moved into the queue database/);
  expect(await readdir(join(home, "queues"))).not.toContain("submission");
  await relay.stop();
}, 120_000);
