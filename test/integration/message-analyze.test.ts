// `relay message analyze` on a message that went through the relay (local mode) to a sink: route, the relay's hop and connector, DKIM/SPF/DMARC against a loopback DNS server.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runCli } from "#test/support/cli.ts";
import { type CliRelay, startCliRelay, submit, waitFor } from "#test/support/cli-relay.ts";
import { type PrintedDnsRecord, publish } from "#test/support/dkim.ts";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";
import { smartHostConnector } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let r: CliRelay;
let sink: Sink;
let dns: TestDnsServer;
let dir: string;
let saved: string;

interface Analysis {
  hops: {
    hop: number;
    from?: string;
    fromIp?: string;
    by?: string;
    with?: string;
    relay?: { receiveConnector?: string };
    protocol: { tls?: boolean; auth?: boolean };
  }[];
  totalSeconds?: number;
  authentication?: {
    dkim: { domain?: string; result: string; aligned?: string | false }[];
    spf: { result: string; ip?: string; domain?: string };
    dmarc: { result: string; domain?: string; policy?: string };
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "relay-analyze-"));
  sink = await startSink();
  dns = await startDnsServer();
  r = await startCliRelay([smartHostConnector(`127.0.0.1:${sink.port}`)]);
  const made = await r.json<{ config: { dnsRecords: PrintedDnsRecord[] } }>([
    "dkim-signing-config",
    "new",
    "--domain",
    "contoso.com",
  ]);
  publish(dns, made.config.dnsRecords);
  // The relay hands the message over from 127.0.0.1; contoso.com's SPF and DMARC say so.
  dns.set("contoso.com", { TXT: ["v=spf1 ip4:127.0.0.1 -all"] });
  dns.set("_dmarc.contoso.com", { TXT: ["v=DMARC1; p=reject"] });
  // The relay re-reads its records every 2 s: the signing config is in force after that.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  await submit(r.port, "app@contoso.com", ["ann@fabrikam.com"], "Route check");
  await waitFor("delivery to the sink", () => sink.received.length === 1);
  const msg = sink.received[0];
  if (!msg) throw new Error("nothing received");
  // What the recipient's server adds before the admin saves the message: Return-Path and its own Received field.
  const top =
    `Return-Path: <${msg.mailFrom}>\r\n` +
    `Received: from relay.contoso.com ([127.0.0.1])\r\n\tby mx.fabrikam.com (Postfix) with ESMTPS id 4AbC123\r\n\tfor <ann@fabrikam.com>; ${new Date(Date.now() + 1000).toUTCString().replace("GMT", "+0000")}\r\n`;
  saved = join(dir, "saved.eml");
  await writeFile(saved, Buffer.concat([Buffer.from(top), msg.raw]));
}, 60_000);
afterAll(async () => {
  await r?.stop();
  await sink?.close();
  await dns?.close();
  await rm(dir, { recursive: true, force: true });
});

test("the route names this relay's hop and receive connector; DKIM, SPF and DMARC pass against the loopback DNS server", async () => {
  const out = await runCli(["message", "analyze", saved, "--dns-servers", dns.address, "--json"], {
    home: r.home,
  });
  expect(out.code, out.stderr).toBe(0);
  const a = JSON.parse(out.stdout) as Analysis;
  expect(a.hops).toHaveLength(2);
  expect(a.hops[0]).toMatchObject({
    hop: 1,
    from: "app.contoso.com",
    fromIp: "127.0.0.1",
    with: "ESMTP",
    relay: { receiveConnector: "Apps" },
    protocol: { tls: false, auth: false },
  });
  expect(a.hops[1]).toMatchObject({ hop: 2, by: "mx.fabrikam.com", with: "ESMTPS" });
  expect(a.totalSeconds).toBeGreaterThanOrEqual(0);
  expect(a.authentication?.dkim).toEqual([
    expect.objectContaining({ domain: "contoso.com", result: "pass", aligned: "contoso.com" }),
  ]);
  expect(a.authentication?.spf).toMatchObject({
    result: "pass",
    ip: "127.0.0.1",
    domain: "contoso.com",
  });
  expect(a.authentication?.dmarc).toMatchObject({
    result: "pass",
    domain: "contoso.com",
    policy: "reject",
  });
}, 60_000);

test("from standard input, as text: the table, the relay's line, and a DKIM failure once the body changes", async () => {
  const { readFile } = await import("node:fs/promises");
  const tampered = (await readFile(saved, "latin1")).replace("Hello.", "Hello!");
  const out = await runCli(["message", "analyze", "--dns-servers", dns.address], {
    home: r.home,
    input: tampered,
  });
  expect(out.code, out.stderr).toBe(0);
  expect(out.stdout).toMatch(
    /^1 +\S+ +app\.contoso\.com \[127\.0\.0\.1\] +\S+ \(this relay\) +ESMTP +no +no /m,
  );
  expect(out.stdout).toMatch(
    /This relay: hop 1, receive connector "Apps", message id \d{8}T\d{6}Z-[0-9a-f]{12}/,
  );
  expect(out.stdout).toMatch(/DKIM +(fail|neutral) +contoso\.com/);
}, 60_000);

test("bad input: an empty message, a missing file and a bad DNS server are exit 2 with the reason", async () => {
  const empty = await runCli(["message", "analyze", "--skip-auth"], { home: r.home, input: "" });
  expect(empty).toMatchObject({ code: 2 });
  expect(empty.stderr).toMatch(/the message is empty/);
  const missing = await runCli(["message", "analyze", join(dir, "nope.eml")], { home: r.home });
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/nope\.eml: cannot read it \(ENOENT\)/);
  const badDns = await runCli(["message", "analyze", saved, "--dns-servers", "dns.example"], {
    home: r.home,
  });
  expect(badDns.code).toBe(2);
  expect(badDns.stderr).toMatch(/--dns-servers: "dns\.example" is not an IP address/);
}, 60_000);
