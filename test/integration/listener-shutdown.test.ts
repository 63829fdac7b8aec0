// Graceful shutdown and the health endpoint: stop accepting, let transactions finish, 421 the rest.
import { afterEach, expect, test } from "vitest";
import { MemoryMessageStore } from "#adapters/memory/message-store.ts";
import { MemoryQueue } from "#adapters/memory/queue.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import type { SubmittedMessage } from "#core/message.ts";
import { RecordCache } from "#core/records/cache.ts";
import { silentLogger } from "#listener/logger.ts";
import { type RunningListener, runListener } from "#listener/run.ts";
import {
  acceptedDomain,
  receiveConnector,
  testPki,
  useTestListener,
} from "#test/support/listener.ts";
import { RawSmtpClient } from "#test/support/smtp-client.ts";

const h = useTestListener();
let running: RunningListener | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const SHUTTING_DOWN = "421 4.3.2 Service shutting down, closing transmission channel";

async function session() {
  const { client } = await h.open();
  await client.command("EHLO app.example");
  return client;
}

test("stop: idle sessions get 421 at once, a transaction in progress finishes, new connections are refused", async () => {
  const t = await h.start([receiveConnector("Default"), acceptedDomain("contoso.com")], {
    shutdownDeadlineMs: 10_000,
  });
  const port = t.port();
  const idle = await session();
  const busy = await session();
  await busy.command("MAIL FROM:<a@example.org>");
  await busy.command("RCPT TO:<b@contoso.com>");

  const stopping = t.listener.stop();
  expect((await idle.read()).text).toBe(SHUTTING_DOWN);
  await idle.closed();
  await expect(RawSmtpClient.connect({ host: "127.0.0.1", port })).rejects.toThrow(/ECONNREFUSED/);

  expect((await busy.command("DATA")).code).toBe(354);
  busy.write("Subject: last one\r\n\r\nbody\r\n.\r\n");
  expect((await busy.read()).text).toMatch(/^250 2\.6\.0 /);
  expect((await busy.command("NOOP")).text).toBe(SHUTTING_DOWN);
  await busy.closed();
  await stopping;
  expect(t.listener.state).toBe("stopped");
  expect(t.queue.size).toBe(1);
});

test("a session still in a transaction at the deadline is answered 421", async () => {
  const t = await h.start([receiveConnector("Default"), acceptedDomain("contoso.com")], {
    shutdownDeadlineMs: 200,
  });
  const slow = await session();
  await slow.command("MAIL FROM:<a@example.org>");
  const stopping = t.listener.stop();
  expect((await slow.read()).text).toBe(SHUTTING_DOWN);
  await slow.closed();
  await stopping;
  expect(t.listener.sessionCount).toBe(0);
});

test("QUIT during the drain is still answered 221", async () => {
  const t = await h.start([receiveConnector("Default")], { shutdownDeadlineMs: 5_000 });
  const c = await session();
  await c.command("MAIL FROM:<a@example.org>");
  const stopping = t.listener.stop();
  expect((await c.command("QUIT")).text).toBe("221 2.0.0 Bye");
  await stopping;
});

test("health: 200 while running, 503 while draining, gone once stopped", async () => {
  const { cert } = await testPki();
  const store = new MemoryRecordStore([receiveConnector("Default")]);
  running = await runListener({
    records: new RecordCache(store, { ttlMs: 0 }),
    queue: new MemoryQueue<SubmittedMessage>(),
    messageStore: new MemoryMessageStore(),
    logger: silentLogger,
    config: {
      hostName: "relay.test",
      tls: cert,
      bindPorts: { "25": 0 },
      healthPort: 0,
      healthHost: "127.0.0.1",
      shutdownDeadlineMs: 5_000,
    },
  });
  const url = `http://127.0.0.1:${running.health!.port}/health`;
  const ok = await fetch(url);
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({ status: "ok", state: "running", bindings: 1 });

  const port = running.listener.addresses()[0]!.actualPort;
  const c = await RawSmtpClient.connect({ host: "127.0.0.1", port });
  h.track(c);
  await c.read();
  await c.command("EHLO app.example");
  await c.command("MAIL FROM:<a@example.org>");
  const stopping = running.stop();
  const draining = await fetch(url);
  expect(draining.status).toBe(503);
  expect(await draining.json()).toMatchObject({
    status: "unavailable",
    state: "draining",
    sessions: 1,
  });
  c.write("QUIT\r\n");
  await stopping;
  await expect(fetch(url)).rejects.toThrow();
});
