// Local mode end to end: `npm start` as a child process, mail in with swaks and nodemailer, out to
// real SMTP peers on loopback through an MX connector (real DNS server) and a smart-host connector.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import nodemailer from "nodemailer";
import { afterEach, describe, expect, test } from "vitest";
import { runCli } from "#test/support/cli.ts";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";
import {
  appsConnector,
  freePort,
  type RelayProcess,
  startRelayProcess,
  waitFor,
  writeRecords,
} from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

const run = promisify(execFile);
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

async function home(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "relay-e2e-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function started(dir: string): RelayProcess {
  const relay = startRelayProcess(dir);
  cleanup.push(() => relay.stop());
  return relay;
}

async function sink(): Promise<Sink> {
  const s = await startSink();
  cleanup.push(() => s.close());
  return s;
}

describe("local mode from the README's command", () => {
  test("first start seeds the connectors, then swaks relays through 2525 to a smart host set with the CLI", async () => {
    const dir = await home();
    const out = await sink();
    const relay = started(dir);
    await relay.ready;
    expect(relay.stdout()).toMatch(
      /listening: +127\.0\.0\.1:2525, \[::1\]:2525, 127\.0\.0\.1:2587/,
    );
    expect(relay.stdout()).toContain(`state:      ${dir}`);
    expect(relay.stdout()).toMatch(/first start: created the default connectors/);

    const set = await runCli(
      ["send-connector", "set", "--name", "To Internet", "--smart-hosts", `127.0.0.1:${out.port}`],
      { home: dir },
    );
    expect(set.code).toBe(0);
    // The running relay picks the change up within its 2 s record TTL; swaks sends after that.
    await new Promise((r) => setTimeout(r, 2500));
    const swaks = await run("swaks", [
      "--server",
      "127.0.0.1:2525",
      "--from",
      "app@example.com",
      "--to",
      "someone@example.net",
      "--header",
      "Subject: e2e swaks",
      "--body",
      "hello from swaks",
    ]);
    expect(swaks.stdout).toMatch(/<- {2}250 2\.6\.0 <[0-9TZ]+-[0-9a-f]+> Queued mail for delivery/);
    await waitFor("delivery to the smart host", () => out.received.length === 1);
    const msg = out.received[0]!;
    expect(msg.mailFrom).toBe("app@example.com");
    expect(msg.rcptTo).toEqual(["someone@example.net"]);
    const text = msg.raw.toString("utf8");
    expect(text).toMatch(
      /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby \S+ \(connector-relay; connector="Loopback Relay"\) with ESMTP id /m,
    );
    expect(text).toContain("Subject: e2e swaks");
    expect(text).toContain("hello from swaks");

    // Stopped, the relay has written its log and its counts to stderr in the shape used in AWS.
    await relay.stop();
    const lines = relay
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const logged = lines.filter((l) => "level" in l).map((l) => `${l.service} ${l.message}`);
    expect(logged).toEqual(
      expect.arrayContaining(["relay-route message routed", "relay-deliver delivery attempt"]),
    );
    const emf = lines.filter((l) => "_aws" in l);
    expect(emf).toContainEqual(
      expect.objectContaining({
        service: "connector-relay",
        ReceiveConnector: "Loopback Relay",
        Received: 1,
      }),
    );
    expect(emf).toContainEqual(
      expect.objectContaining({
        SendConnector: "To Internet",
        NextHop: `127.0.0.1:${out.port}`,
        Routed: 1,
        Delivered: 1,
      }),
    );
  });

  test("a second instance on the same RELAY_HOME refuses to start", async () => {
    const dir = await home();
    const port = await freePort();
    await writeRecords(dir, [
      {
        kind: "ReceiveConnector",
        name: "Relay",
        bindings: [`127.0.0.1:${port}`],
        remoteIpRanges: ["127.0.0.0/8"],
      },
    ]);
    const first = started(dir);
    await first.ready;
    const second = startRelayProcess(dir);
    expect(await second.exited).not.toBe(0);
    expect(second.stderr()).toMatch(/another relay \(pid \d+\) is already running on/);
  });
});

describe("MX and smart-host delivery with exact bytes", () => {
  let dns: TestDnsServer;

  test("nodemailer → relay → MX host found through the connector's DNS server; smart host for one domain", async () => {
    const dir = await home();
    const mx = await sink();
    const smart = await sink();
    dns = await startDnsServer({
      "example.net": { MX: [{ exchange: "mx1.example.net", priority: 10 }] },
      "mx1.example.net": { A: ["127.0.0.1"] },
    });
    cleanup.push(() => dns.close());
    const port = await freePort();
    await writeRecords(dir, [
      appsConnector(port),

      {
        kind: "SendConnector",
        name: "By MX",
        addressSpaces: [{ domain: "*", cost: 1 }],
        externalDnsServers: [dns.address],
        port: mx.port,
      },
      {
        kind: "SendConnector",
        name: "Partner",
        addressSpaces: [{ domain: "fabrikam.com", cost: 1 }],
        dnsRoutingEnabled: false,
        smartHosts: [`127.0.0.1:${smart.port}`],
      },
    ]);
    const relay = started(dir);
    await relay.ready;

    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port,
      secure: false,
      ignoreTLS: true,
    });
    const raw =
      "From: App <app@example.com>\r\nTo: someone@example.net, b@fabrikam.com\r\nSubject: exact bytes\r\nMessage-ID: <e2e-1@example.com>\r\n\r\nline one\r\n.leading dot\r\n\r\nlast line\r\n";
    const info = await transport.sendMail({
      envelope: { from: "app@example.com", to: ["someone@example.net", "b@fabrikam.com"] },
      raw,
    });
    expect(info.response).toMatch(/^250 2\.6\.0 </);
    await waitFor("both deliveries", () => mx.received.length === 1 && smart.received.length === 1);
    expect(mx.received[0]?.rcptTo).toEqual(["someone@example.net"]);
    expect(smart.received[0]?.rcptTo).toEqual(["b@fabrikam.com"]);
    expect(dns.queries).toContain("MX example.net");
    for (const m of [mx.received[0]!, smart.received[0]!]) {
      const text = m.raw.toString("utf8");
      // Our Received header first, then the client's bytes unchanged (dot-stuffing undone, CRLF kept).
      const body = text.slice(text.indexOf("From: App"));
      expect(body).toBe(raw);
    }
  });
});
