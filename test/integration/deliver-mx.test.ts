// Delivery by MX lookup against a loopback DNS server and scripted SMTP sinks: order, fallback, implicit MX, null MX, NXDOMAIN, SERVFAIL.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";
import { parseReport } from "#test/support/dsn.ts";
import { rawOf, sendConnector, TestRelay } from "#test/support/relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let dns: TestDnsServer;
let mx1: Sink;
let mx2: Sink;
let senderMx: Sink;

beforeAll(async () => {
  mx1 = await startSink({ host: "127.0.0.2" });
  mx2 = await startSink({ host: "127.0.0.3", port: mx1.port });
  senderMx = await startSink({ host: "127.0.0.4", port: mx1.port });
  dns = await startDnsServer({
    "fabrikam.test": {
      MX: [
        { exchange: "mx2.fabrikam.test", priority: 20 },
        { exchange: "mx1.fabrikam.test", priority: 10 },
      ],
    },
    "mx1.fabrikam.test": { A: ["127.0.0.2"] },
    "mx2.fabrikam.test": { A: ["127.0.0.3"] },
    "implicit.test": { A: ["127.0.0.3"] },
    "nullmx.test": { MX: [{ exchange: ".", priority: 0 }] },
    "noaddress.test": {},
    "broken.test": "SERVFAIL",
    "contoso.test": { MX: [{ exchange: "mail.contoso.test", priority: 10 }] },
    "mail.contoso.test": { A: ["127.0.0.4"] },
  });
});

afterAll(async () => {
  await Promise.all([mx1.close(), mx2.close(), senderMx.close(), dns.close()]);
});

afterEach(() => {
  for (const s of [mx1, mx2, senderMx]) {
    s.script = {};
    s.received.length = 0;
  }
});

function relay(): TestRelay {
  return new TestRelay({
    records: [
      sendConnector({
        name: "To Internet",
        usage: "Internet",
        port: mx1.port,
        externalDnsServers: [dns.address],
        protocolLogging: "Verbose",
      }),
    ],
  });
}

describe("MX delivery", () => {
  it("delivers to the most preferred MX with the message bytes unchanged", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
    await r.pump();

    expect(mx1.received).toHaveLength(1);
    expect(mx2.received).toHaveLength(0);
    const got = mx1.received[0]!;
    expect(got.mailFrom).toBe("app@contoso.test");
    expect(got.rcptTo).toEqual(["ann@fabrikam.test"]);
    expect(got.ehlo).toBe("relay.test");
    expect(got.raw.equals(await rawOf(r, m))).toBe(true);
    const row = await r.row(m.id, "ann@fabrikam.test");
    expect(row).toMatchObject({
      status: "Delivered",
      connector: "To Internet",
      nextHop: "fabrikam.test",
      attempts: 1,
    });
    const events = await r.tracking.events({ messageId: m.id });
    expect(events.map((e) => e.event)).toEqual(["ROUTE", "DELIVER"]);
    expect(events[1]!.detail).toContain("mx1.fabrikam.test[127.0.0.2]: 250");
  });

  it("falls back to the next MX when the preferred one refuses the session", async () => {
    mx1.script = { connect: "421 4.3.2 Too busy" };
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
    await r.pump();

    expect(mx2.received.map((x) => x.rcptTo)).toEqual([["ann@fabrikam.test"]]);
    expect((await r.row(m.id, "ann@fabrikam.test"))?.status).toBe("Delivered");
    const sessions = new Set(r.protocol.map((l) => l.session));
    expect(sessions.size).toBe(2);
    expect(r.protocol.find((l) => l.line.startsWith("421"))?.remote).toContain("127.0.0.2");
  });

  it("uses the domain's own address when it has no MX records (implicit MX)", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["bob@implicit.test"] });
    await r.pump();

    expect(mx2.received.map((x) => x.rcptTo)).toEqual([["bob@implicit.test"]]);
    expect((await r.row(m.id, "bob@implicit.test"))?.status).toBe("Delivered");
  });

  it("fails a null MX domain at once with 5.1.10 and returns an NDR to the sender from <>", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["carol@nullmx.test"] });
    await r.pump();

    const row = await r.row(m.id, "carol@nullmx.test");
    expect(row?.status).toBe("Failed");
    expect(row?.lastError).toContain("556 5.1.10");
    expect(senderMx.received).toHaveLength(1);
    const ndr = senderMx.received[0]!;
    expect(ndr.mailFrom).toBe("");
    expect(ndr.rcptTo).toEqual(["app@contoso.test"]);
    const report = await parseReport(ndr.raw);
    expect(report.perRecipient[0]).toMatchObject({
      "final-recipient": "rfc822; carol@nullmx.test",
      action: "failed",
      status: "5.1.10",
    });
  });

  it("fails a nonexistent domain (NXDOMAIN) with 5.4.4", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["dan@nowhere.test"] });
    await r.pump();

    const row = await r.row(m.id, "dan@nowhere.test");
    expect(row?.status).toBe("Failed");
    expect(row?.lastError).toContain("550 5.4.4");
    expect(senderMx.received).toHaveLength(1);
  });

  it("fails a domain with neither MX nor address records with 5.4.4", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["erin@noaddress.test"] });
    await r.pump();

    expect((await r.row(m.id, "erin@noaddress.test"))?.lastError).toContain("5.4.4");
  });

  it("defers on SERVFAIL and schedules the first retry a minute later", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["fred@broken.test"] });
    await r.pump();

    const row = await r.row(m.id, "fred@broken.test");
    expect(row).toMatchObject({ status: "Deferred", attempts: 1 });
    expect(row?.lastError).toContain("451 4.4.3");
    expect(row?.nextRetryAt).toBe(new Date(r.clock.now().getTime() + 60_000).toISOString());
    const [retry] = r.delivery.peek();
    expect(retry?.body).toMatchObject({ attempts: 1, recipients: ["fred@broken.test"] });
    expect(senderMx.received).toHaveLength(0);
  });
});
