// The SMTP courier's connection cache: consecutive deliveries to one host share a connection, and a
// connection the server closed while idle is never used for a transaction.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterEach, expect, test } from "vitest";
import { NodemailerCourier } from "#adapters/smtp/courier.ts";
import type { CourierRequest } from "#core/ports.ts";

const servers: SMTPServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** A real SMTP server on loopback that counts connections and messages; `idleMs` closes idle sessions. */
async function server(
  idleMs?: number,
): Promise<{ port: number; connections: () => number; messages: () => number }> {
  let connections = 0;
  let messages = 0;
  const s = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    ...(idleMs ? { socketTimeout: idleMs } : {}),
    onConnect: (_session, cb) => {
      connections++;
      cb();
    },
    onData: (stream, _session, cb) => {
      stream.resume();
      stream.on("end", () => {
        messages++;
        cb();
      });
    },
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return {
    port: (s.server.address() as AddressInfo).port,
    connections: () => connections,
    messages: () => messages,
  };
}

const request = (port: number, n: number, extra: Partial<CourierRequest> = {}): CourierRequest => ({
  host: "127.0.0.1",
  port,
  ehloName: "relay.test",
  tls: { mode: "opportunistic", validate: "none" },
  mailFrom: "a@example.com",
  recipients: [`r${n}@example.net`],
  raw: Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`),
  ...extra,
});

test("consecutive deliveries to one host reuse one connection", async () => {
  const s = await server();
  const courier = new NodemailerCourier();
  for (let i = 0; i < 5; i++) {
    const [outcome] = await courier.send(request(s.port, i));
    expect(outcome?.status).toBe("delivered");
  }
  expect(s.messages()).toBe(5);
  expect(s.connections()).toBe(1);
  courier.close();
});

test("a cached connection the server closed is replaced, and the message still goes once", async () => {
  const s = await server(300);
  const courier = new NodemailerCourier({ connectionCache: { idleMs: 10_000 } });
  expect((await courier.send(request(s.port, 1)))[0]?.status).toBe("delivered");
  await new Promise((r) => setTimeout(r, 700)); // the server drops the idle session (421 timeout)
  expect((await courier.send(request(s.port, 2)))[0]?.status).toBe("delivered");
  expect(s.messages()).toBe(2);
  expect(s.connections()).toBe(2);
  courier.close();
});

test("with a protocol log, or with the cache off, every delivery has its own connection", async () => {
  const s = await server();
  const logged = new NodemailerCourier();
  await logged.send(request(s.port, 1, { protocolLog: () => {} }));
  await logged.send(request(s.port, 2, { protocolLog: () => {} }));
  const uncached = new NodemailerCourier({ connectionCache: false });
  await uncached.send(request(s.port, 3));
  await uncached.send(request(s.port, 4));
  expect(s.messages()).toBe(4);
  expect(s.connections()).toBe(4);
  logged.close();
});
