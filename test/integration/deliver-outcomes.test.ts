// Per-recipient outcomes and their consequences on real SMTP peers: mixed replies, retry, expiry, NDR and delay DSN content, no NDR loops.
import { describe, expect, it } from "vitest";
import { parseReport } from "#test/support/dsn.ts";
import { useMxWorld } from "#test/support/mx-world.ts";
import { sendConnector, TestRelay } from "#test/support/relay.ts";

const world = useMxWorld();

function relay(settings: Record<string, unknown> = {}): TestRelay {
  return new TestRelay({
    records: [
      sendConnector({
        name: "To Internet",
        port: world.mx.port,
        externalDnsServers: [world.dns.address],
      }),
      { kind: "TransportSettings", postmaster: "postmaster@contoso.test", ...settings },
    ],
  });
}

const ann = "ann@fabrikam.test";
const bad = "bad@fabrikam.test";
const later = "later@fabrikam.test";

describe("per-recipient outcomes in one transaction", () => {
  it("delivers, bounces and defers recipients of one transaction separately", async () => {
    world.mx.script = {
      rcpt: { [bad]: "550 5.1.1 User unknown", [later]: "451 4.2.1 Mailbox busy" },
    };
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: [ann, bad, later] });
    await r.pump();

    expect(world.mx.received.map((x) => x.rcptTo)).toEqual([[ann]]);
    expect(world.mx.rcptSeen.filter((a) => [ann, bad, later].includes(a))).toEqual([
      ann,
      bad,
      later,
    ]);
    expect(await r.row(m.id, ann)).toMatchObject({ status: "Delivered", attempts: 1 });
    expect(await r.row(m.id, bad)).toMatchObject({
      status: "Failed",
      lastError: "mx1.fabrikam.test[127.0.0.2]: 550 5.1.1 User unknown",
    });
    expect(await r.row(m.id, later)).toMatchObject({
      status: "Deferred",
      lastError: "mx1.fabrikam.test[127.0.0.2]: 451 4.2.1 Mailbox busy",
    });
    const retry = r.delivery.peek().map((j) => j.body);
    expect(retry).toMatchObject([{ recipients: [later], attempts: 1 }]);
    expect(world.senderMx.received).toHaveLength(1);
  });

  it("sends an RFC 3464 NDR for a 5xx with the remote host, its reply and the original headers", async () => {
    world.mx.script = { rcpt: { [bad]: "550 5.1.1 User unknown" } };
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: [ann, bad], subject: "Invoice 42" });
    await r.pump();

    expect(world.senderMx.received).toHaveLength(1);
    const ndr = world.senderMx.received[0]!;
    expect(ndr.mailFrom).toBe("");
    expect(ndr.rcptTo).toEqual(["app@contoso.test"]);
    const report = await parseReport(ndr.raw);
    expect(report.contentType).toBe("multipart/report");
    expect(report.reportType).toBe("delivery-status");
    expect(report.partTypes).toEqual([
      "text/plain",
      "message/delivery-status",
      "text/rfc822-headers",
    ]);
    expect(report.subject).toBe("Undeliverable: Invoice 42");
    expect(report.from).toContain("postmaster@contoso.test");
    expect(report.autoSubmitted).toBe("auto-replied");
    expect(report.perMessage["reporting-mta"]).toBe("dns; relay.test");
    expect(report.perRecipient).toEqual([
      expect.objectContaining({
        "final-recipient": `rfc822; ${bad}`,
        action: "failed",
        status: "5.1.1",
        "remote-mta": "dns; mx1.fabrikam.test",
        "diagnostic-code": "smtp; 550 5.1.1 User unknown",
      }),
    ]);
    expect(report.originalHeaders).toContain("Subject: Invoice 42");
    expect(report.originalHeaders).toContain(`Message-ID: <${m.id}@contoso.test>`);
    expect(report.text).toContain(bad);
    const events = await r.tracking.events({ messageId: m.id });
    expect(events.find((e) => e.event === "DSN")?.detail).toContain(`${bad} (5.1.1)`);
  });
});

describe("retry and expiry", () => {
  it("retries a deferred recipient on schedule and delivers it without resending to the others", async () => {
    world.mx.script = { rcpt: { [later]: "451 4.2.1 Mailbox busy" } };
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: [ann, later] });
    await r.pump();
    expect(world.mx.received.map((x) => x.rcptTo)).toEqual([[ann]]);

    world.mx.script = {};
    r.advance(59);
    await r.pump();
    expect(world.mx.received).toHaveLength(1);

    r.advance(1);
    await r.pump();
    expect(world.mx.received.map((x) => x.rcptTo)).toEqual([[ann], [later]]);
    expect(await r.row(m.id, later)).toMatchObject({ status: "Delivered", attempts: 2 });
    expect(r.delivery.size).toBe(0);
  });

  it("chains queue delays beyond the 15-minute SQS limit until the retry is due", async () => {
    world.mx.script = { rcpt: { [later]: "451 4.2.1 Mailbox busy" } };
    const r = relay({ retrySchedule: [{ intervalSeconds: 3600, count: 5 }] });
    const m = await r.submit({ from: "app@contoso.test", to: [later] });
    await r.pump();
    const due = new Date(r.clock.now().getTime() + 3600_000).toISOString();
    expect(r.delivery.peek()[0]?.body.notBefore).toBe(due);

    world.mx.script = {};
    const tries = world.mx.rcptSeen.length;
    for (let i = 0; i < 3; i++) {
      r.advance(900);
      await r.pump();
      expect(r.delivery.size).toBe(1);
    }
    expect(world.mx.rcptSeen.length).toBe(tries);
    r.advance(900);
    await r.pump();
    expect(await r.row(m.id, later)).toMatchObject({ status: "Delivered", attempts: 2 });
  });

  it("expires a recipient that keeps deferring, with a final try at the deadline and a 4.4.7 NDR", async () => {
    world.mx.script = { rcpt: { [later]: "451 4.7.1 Greylisted, try again later" } };
    const r = relay({
      retrySchedule: [
        { intervalSeconds: 60, count: 2 },
        { intervalSeconds: 300, count: 1 },
      ],
      messageExpirationTimeoutSeconds: 900,
      delayNotificationTimeoutSeconds: 0,
    });
    const m = await r.submit({ from: "app@contoso.test", to: [later] });
    const attemptsAt: number[] = [];
    const start = r.clock.now().getTime();
    for (let i = 0; i < 40 && (await r.row(m.id, later))?.status !== "Expired"; i++) {
      const before = world.mx.rcptSeen.length;
      await r.pump();
      if (world.mx.rcptSeen.length > before)
        attemptsAt.push((r.clock.now().getTime() - start) / 1000);
      r.advance(30);
    }

    // 0, +60, +60, then every 300 s, the last one at the 900 s deadline.
    expect(attemptsAt).toEqual([0, 60, 120, 420, 720, 900]);
    const row = await r.row(m.id, later);
    expect(row).toMatchObject({ status: "Expired", attempts: 6 });
    expect(row?.lastError).toContain("451 4.7.1 Greylisted");
    expect(world.senderMx.received).toHaveLength(1);
    const report = await parseReport(world.senderMx.received[0]!.raw);
    expect(report.perRecipient[0]).toMatchObject({
      action: "failed",
      status: "4.4.7",
      "diagnostic-code": "smtp; 451 4.7.1 Greylisted, try again later",
    });
    expect((await r.tracking.events({ messageId: m.id })).map((e) => e.event)).toContain("EXPIRE");
  });

  it("expires with the Exchange defaults after two days", async () => {
    world.mx.script = { rcpt: { [later]: "452 4.2.2 Mailbox full" } };
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: [later] });
    await r.pump();
    r.advance(2 * 24 * 3600);
    await r.pump();

    expect(await r.row(m.id, later)).toMatchObject({ status: "Expired", attempts: 2 });
    expect(world.senderMx.received).toHaveLength(1);
  });

  it("sends one delay DSN once the message has waited the notification timeout", async () => {
    world.mx.script = { rcpt: { [later]: "451 4.2.1 Mailbox busy" } };
    const r = relay({
      retrySchedule: [{ intervalSeconds: 60, count: 10 }],
      delayNotificationTimeoutSeconds: 120,
    });
    const m = await r.submit({ from: "app@contoso.test", to: [later] });
    for (let i = 0; i < 5; i++) {
      await r.pump();
      r.advance(60);
    }

    expect(await r.row(m.id, later)).toMatchObject({ status: "Deferred", attempts: 5 });
    expect(world.senderMx.received).toHaveLength(1);
    const report = await parseReport(world.senderMx.received[0]!.raw);
    expect(report.subject).toBe("Delivery delayed: Quarterly report");
    expect(report.perRecipient[0]).toMatchObject({
      action: "delayed",
      status: "4.2.1",
      "diagnostic-code": "smtp; 451 4.2.1 Mailbox busy",
    });
    expect(report.perRecipient[0]?.["will-retry-until"]).toBeDefined();
  });
});

describe("no NDR loops", () => {
  it("never bounces a message with a null sender", async () => {
    world.mx.script = { rcpt: { [bad]: "550 5.1.1 User unknown" } };
    const r = relay();
    const m = await r.submit({ from: "", to: [bad] });
    await r.pump();

    expect((await r.row(m.id, bad))?.status).toBe("Failed");
    expect(r.submission.size).toBe(0);
    expect(world.senderMx.received).toHaveLength(0);
  });

  it("does not report on its own NDR when the sender's server refuses it", async () => {
    world.mx.script = { rcpt: { [bad]: "550 5.1.1 User unknown" } };
    world.senderMx.script = { rcpt: { "gone@contoso.test": "550 5.1.1 No such user" } };
    const r = relay();
    const m = await r.submit({ from: "gone@contoso.test", to: [bad] });
    await r.pump();

    const dsnEvents = (await r.tracking.events({})).filter((e) => e.event === "DSN");
    expect(dsnEvents.map((e) => e.messageId)).toEqual([m.id]);
    const ndrRows = (await r.tracking.listActive()).length;
    expect(ndrRows).toBe(0);
    expect(world.senderMx.rcptSeen.filter((a) => a === "gone@contoso.test")).toHaveLength(1);
    expect(r.submission.size + r.delivery.size).toBe(0);
  });
});
