// Local mode's suppression list and delivery events end to end: `npm start` as a child process, mail
// in over SMTP, out to a scripted sink, events POSTed to a real node:http webhook on 127.0.0.1:0.
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { afterEach, expect, test } from "vitest";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import type { DeliveryEvent } from "#core/events/delivery-event.ts";
import {
  appsConnector,
  freePort,
  type RelayProcess,
  smartHostConnector,
  startRelayProcess,
  waitFor,
  writeRecords,
} from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

const SECRET = "whsec_5f0c6b1e2d";
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

interface Hook {
  url: string;
  /** Every request, answered or not. */
  calls: { eventId: string; signature: string; body: string; status: number }[];
  /** Answers for the next calls, then 204. */
  failNext: number;
  server: Server;
}

async function webhook(): Promise<Hook> {
  const hook = { calls: [], failNext: 0 } as unknown as Hook;
  hook.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = hook.failNext > 0 ? 503 : 204;
      if (status === 503) hook.failNext--;
      hook.calls.push({
        eventId: String(req.headers["x-relay-event-id"]),
        signature: String(req.headers["x-relay-signature"]),
        body: Buffer.concat(chunks).toString("utf8"),
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => hook.server.listen(0, "127.0.0.1", r));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/relay-events`;
  cleanup.push(
    () =>
      new Promise((r) => {
        hook.server.closeAllConnections();
        hook.server.close(r);
      }),
  );
  return hook;
}

/** What a receiver does (docs): recompute HMAC-SHA256 over "<t>.<body>" and compare in constant time. */
function verifies(signature: string, body: string): boolean {
  const parts = Object.fromEntries(
    signature.split(",").map((p) => p.split("=") as [string, string]),
  );
  const expected = createHmac("sha256", SECRET).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1 ?? "", "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const delivered = (hook: Hook): DeliveryEvent[] =>
  hook.calls.filter((c) => c.status === 204).map((c) => JSON.parse(c.body) as DeliveryEvent);

async function relayHome(sink: Sink, hook: Hook, settings: Record<string, unknown> = {}) {
  const dir = await mkdtemp(join(tmpdir(), "relay-events-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  await writeRecords(dir, [
    appsConnector(port),
    smartHostConnector(`127.0.0.1:${sink.port}`),
    {
      kind: "TransportSettings",
      name: "default",
      retrySchedule: [{ intervalSeconds: 1, count: 20 }],
      delayNotificationTimeoutSeconds: 0,
      eventWebhooks: [{ url: hook.url, secret: "webhooks/app" }],
      ...settings,
    },
  ]);
  // The signing secret goes only to the encrypted secret store; records name it.
  await (await LocalSecretStore.open(join(dir, "secrets"))).set("webhooks/app", SECRET);
  return { dir, port };
}

function start(dir: string): RelayProcess {
  const relay = startRelayProcess(dir, { RELAY_EVENT_RETRY_BASE_MS: "300" });
  cleanup.push(() => relay.stop());
  return relay;
}

async function send(port: number, to: string[]): Promise<void> {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true });
  await t.sendMail({ from: "app@contoso.test", to, subject: "Invoice", text: "Hello." });
  t.close();
}

async function sinkFor(): Promise<Sink> {
  const s = await startSink();
  cleanup.push(() => s.close());
  return s;
}

test("one signed event per outcome: delivered, bounced, deferred, expired, then suppressed; a failing webhook gets its event on retry", async () => {
  const sink = await sinkFor();
  sink.script = {
    rcpt: (a) =>
      a === "gone@fabrikam.test"
        ? "550 5.1.1 User unknown"
        : a === "busy@fabrikam.test"
          ? "451 4.2.1 Mailbox busy"
          : undefined,
  };
  const hook = await webhook();
  hook.failNext = 1;
  const { dir, port } = await relayHome(sink, hook, { messageExpirationTimeoutSeconds: 4 });
  const relay = start(dir);
  await relay.ready;

  await send(port, ["ann@fabrikam.test", "gone@fabrikam.test", "busy@fabrikam.test"]);
  const types = () => delivered(hook).map((e) => `${e.type}:${e.recipient}`);
  await waitFor("the expired event", () => types().includes("expired:busy@fabrikam.test"));
  await send(port, ["gone@fabrikam.test"]);
  await waitFor("the suppressed event", () => types().includes("suppressed:gone@fabrikam.test"));

  expect(
    types()
      .filter((t) => !t.startsWith("deferred"))
      .sort(),
  ).toEqual([
    "bounced:gone@fabrikam.test",
    "delivered:ann@fabrikam.test",
    "expired:busy@fabrikam.test",
    "suppressed:gone@fabrikam.test",
  ]);
  expect(types()).toContain("deferred:busy@fabrikam.test");
  // The first call was refused (503) and the same event came again and was taken.
  const first = hook.calls[0]!;
  expect(first.status).toBe(503);
  expect(hook.calls.filter((c) => c.eventId === first.eventId).map((c) => c.status)).toEqual([
    503, 204,
  ]);
  // Each event once, every body signed with the webhook's secret.
  const ids = delivered(hook).map((e) => e.eventId);
  expect(new Set(ids).size).toBe(ids.length);
  for (const c of hook.calls) expect(verifies(c.signature, c.body)).toBe(true);
  expect(verifies(first.signature, first.body.replace("fabrikam", "fabrikan"))).toBe(false);
  expect(sink.rcptSeen.filter((a) => a === "gone@fabrikam.test")).toHaveLength(1);
  const suppressed = delivered(hook).find((e) => e.type === "suppressed")!;
  expect(suppressed).toMatchObject({
    sender: "app@contoso.test",
    connector: "Smart Host",
    nextHop: `127.0.0.1:${sink.port}`,
    enhancedStatus: "5.1.1",
    reply: expect.stringContaining("the remote server said: 550 5.1.1 User unknown"),
  });
  // The secret never reaches the relay's output.
  expect(relay.stdout() + relay.stderr()).not.toContain(SECRET);
}, 60_000);

test("an event still in the outbox when the relay stops is POSTed after the restart", async () => {
  const sink = await sinkFor();
  const hook = await webhook();
  hook.failNext = 1000;
  const { dir, port } = await relayHome(sink, hook);
  const first = start(dir);
  await first.ready;
  await send(port, ["ann@fabrikam.test"]);
  await waitFor("a refused webhook call", () => hook.calls.length >= 1);
  await first.stop();
  expect(delivered(hook)).toEqual([]);

  hook.failNext = 0;
  const second = start(dir);
  await second.ready;
  await waitFor("the event after the restart", () => delivered(hook).length === 1);
  expect(delivered(hook)[0]).toMatchObject({ type: "delivered", recipient: "ann@fabrikam.test" });
  expect(sink.received).toHaveLength(1);
}, 60_000);
