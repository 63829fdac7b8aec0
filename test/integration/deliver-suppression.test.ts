// The suppression list and delivery events on real SMTP peers (scripted sinks over loopback DNS), on the in-memory adapters.
import { describe, expect, it } from "vitest";
import { MemorySuppressionStore } from "#adapters/memory/suppression-store.ts";
import type { DeliveryEvent, EventPublisher } from "#core/events/delivery-event.ts";
import { parseReport } from "#test/support/dsn.ts";
import { useMxWorld } from "#test/support/mx-world.ts";
import { sendConnector, TestRelay } from "#test/support/relay.ts";

const world = useMxWorld();

/** Records what deliver publishes (the runtimes' publishers are tested with their real transports). */
class RecordingPublisher implements EventPublisher {
  readonly events: DeliveryEvent[] = [];
  async publish(events: DeliveryEvent[]): Promise<void> {
    this.events.push(...events);
  }
}

function relay(
  connector: Record<string, unknown> = {},
  settings: Record<string, unknown> = {},
  options: { list?: boolean; events?: EventPublisher } = {},
) {
  // The list reads the relay's hand-moved clock, so expiry follows r.advance().
  const suppression = new MemorySuppressionStore({ now: () => r.clock.now() });
  const publisher = new RecordingPublisher();
  const r: TestRelay = new TestRelay({
    records: [
      sendConnector({
        name: "To Internet",
        port: world.mx.port,
        externalDnsServers: [world.dns.address],
        ...connector,
      }),
      { kind: "TransportSettings", postmaster: "postmaster@contoso.test", ...settings },
    ],
    ...(options.list ? { suppression } : {}),
    events: options.events ?? publisher,
    start: "2026-11-24T10:00:00Z",
  });
  return { r, suppression, publisher };
}

const withList = (connector: Record<string, unknown> = {}, settings = {}) =>
  relay(connector, settings, { list: true });

const gone = "gone@fabrikam.test";
const ann = "ann@fabrikam.test";

describe("suppression list", () => {
  it("a 550 5.1.1 suppresses the address: the next message is not attempted and its NDR says since when and why", async () => {
    world.mx.script = { rcpt: { [gone]: "550 5.1.1 User unknown" } };
    const { r, suppression } = withList();
    await r.submit({ from: "app@contoso.test", to: [gone] });
    await r.pump();
    expect(await suppression.get(gone)).toMatchObject({
      recipient: gone,
      since: "2026-11-24T10:00:00.000Z",
      expiresAt: "2026-12-08T10:00:00.000Z",
      source: "bounce",
      reason: "550 5.1.1 User unknown",
      remoteHost: "mx1.fabrikam.test[127.0.0.2]",
      connector: "To Internet",
    });
    const seen = world.mx.rcptSeen.filter((a) => a === gone).length;
    world.senderMx.received.length = 0;

    r.advance(3600);
    const second = await r.submit({ from: "app@contoso.test", to: [gone, ann] });
    await r.pump();
    expect(world.mx.rcptSeen.filter((a) => a === gone)).toHaveLength(seen);
    expect(world.mx.received.at(-1)?.rcptTo).toEqual([ann]);
    const row = await r.row(second.id, gone);
    expect(row).toMatchObject({ status: "Failed", attempts: 1 });
    expect(row?.lastError).toBe(
      "550 5.1.1 Not attempted: recipient on the suppression list since 2026-11-24T10:00:00.000Z until 2026-12-08T10:00:00.000Z (hard bounce from mx1.fabrikam.test[127.0.0.2]: 550 5.1.1 User unknown)",
    );
    expect(world.senderMx.received).toHaveLength(1);
    const report = await parseReport(world.senderMx.received[0]!.raw);
    expect(report.perRecipient).toEqual([
      expect.objectContaining({
        "final-recipient": `rfc822; ${gone}`,
        action: "failed",
        status: "5.1.1",
        "diagnostic-code":
          "smtp; 550 5.1.1 Recipient address suppressed since 2026-11-24T10:00:00.000Z after a hard bounce; the remote server said: 550 5.1.1 User unknown",
      }),
    ]);
    // No connector name reaches the sender.
    expect(report.text).not.toContain("To Internet");
    const fail = (await r.tracking.events({ messageId: second.id })).find(
      (e) => e.event === "FAIL",
    );
    expect(fail?.detail).toContain("suppression list");
  });

  it("after the suppression duration the address is attempted again", async () => {
    world.mx.script = { rcpt: { [gone]: "550 5.1.1 User unknown" } };
    const { r } = withList({}, { suppressionDurationSeconds: 3600 });
    await r.submit({ from: "app@contoso.test", to: [gone] });
    await r.pump();
    world.mx.script = {};
    r.advance(3601);
    const later = await r.submit({ from: "app@contoso.test", to: [gone] });
    await r.pump();
    expect(await r.row(later.id, gone)).toMatchObject({ status: "Delivered" });
  });

  it.each([
    ["552 5.2.2 Mailbox full", "the mailbox exists"],
    ["550 5.7.1 Message rejected as spam", "a policy refusal is about the sender"],
  ])("%s does not suppress (%s)", async (reply) => {
    world.mx.script = { rcpt: { [gone]: reply } };
    const { r, suppression } = withList();
    await r.submit({ from: "app@contoso.test", to: [gone] });
    await r.pump();
    expect(await suppression.list()).toEqual([]);
  });

  it("the table of codes is configurable", async () => {
    world.mx.script = { rcpt: { [gone]: "550 5.7.1 Message rejected" } };
    const { r, suppression } = withList({}, { suppressionEnhancedCodes: ["5.7.1"] });
    await r.submit({ from: "app@contoso.test", to: [gone] });
    await r.pump();
    expect((await suppression.list()).map((e) => e.recipient)).toEqual([gone]);
  });

  it("a connector with suppressionEnabled false neither checks nor feeds the list", async () => {
    const { r, suppression } = withList({ suppressionEnabled: false });
    await suppression.put({
      recipient: ann,
      since: "2026-11-24T09:00:00.000Z",
      source: "admin",
      reason: "test",
    });
    world.mx.script = { rcpt: { [gone]: "550 5.1.1 User unknown" } };
    const m = await r.submit({ from: "app@contoso.test", to: [ann, gone] });
    await r.pump();
    expect(await r.row(m.id, ann)).toMatchObject({ status: "Delivered" });
    expect((await suppression.list()).map((e) => e.recipient)).toEqual([ann]);
  });

  it("an admin entry gives a 5.7.1 NDR without the admin's reason; LastError has it", async () => {
    const { r, suppression } = withList();
    await suppression.put({
      recipient: ann,
      since: "2026-11-24T09:00:00.000Z",
      source: "admin",
      reason: "ticket 4711: asked to stop",
    });
    const m = await r.submit({ from: "app@contoso.test", to: [ann] });
    await r.pump();
    expect(world.mx.received).toHaveLength(0);
    expect((await r.row(m.id, ann))?.lastError).toContain("added by an admin: ticket 4711");
    const report = await parseReport(world.senderMx.received[0]!.raw);
    expect(report.perRecipient[0]?.status).toBe("5.7.1");
    expect(report.text).not.toContain("4711");
  });
});

describe("delivery events", () => {
  it("one event per delivered, bounced and deferred recipient, with the message, hop and remote reply", async () => {
    world.mx.script = {
      rcpt: { [gone]: "550 5.1.1 User unknown", "busy@fabrikam.test": "451 4.2.1 Busy" },
    };
    const { r, publisher } = relay();
    const m = await r.submit({ from: "app@contoso.test", to: [ann, gone, "busy@fabrikam.test"] });
    await r.pump();
    const byType = Object.fromEntries(publisher.events.map((e) => [e.type, e]));
    expect(Object.keys(byType).sort()).toEqual(["bounced", "deferred", "delivered"]);
    expect(byType.delivered).toMatchObject({
      eventId: `${m.id}:${ann}:1:delivered`,
      messageId: m.id,
      sender: "app@contoso.test",
      recipient: ann,
      connector: "To Internet",
      nextHop: "fabrikam.test",
      remoteHost: "mx1.fabrikam.test[127.0.0.2]",
      attempt: 1,
    });
    expect(byType.delivered?.reply).toMatch(/^250 /);
    expect(byType.bounced).toMatchObject({
      reply: "550 5.1.1 User unknown",
      enhancedStatus: "5.1.1",
    });
    expect(byType.deferred).toMatchObject({ reply: "451 4.2.1 Busy", attempt: 1 });
    expect(byType.deferred?.nextRetryAt).toBe("2026-11-24T10:01:00.000Z");
  });

  it("deferred: the first deferral and every Nth attempt; then expired", async () => {
    const busy = "busy@fabrikam.test";
    world.mx.script = { rcpt: { [busy]: "451 4.2.1 Busy" } };
    const { r, publisher } = relay(
      {},
      {
        retrySchedule: [{ intervalSeconds: 60, count: 10 }],
        messageExpirationTimeoutSeconds: 420,
        delayNotificationTimeoutSeconds: 0,
        deferredEventEvery: 3,
      },
    );
    await r.submit({ from: "app@contoso.test", to: [busy] });
    for (let i = 0; i < 10; i++) {
      await r.pump();
      r.advance(60);
    }
    expect(publisher.events.map((e) => `${e.type}@${e.attempt}`)).toEqual([
      "deferred@1",
      "deferred@3",
      "deferred@6",
      "expired@8",
    ]);
  });

  it("a suppressed recipient publishes a suppressed event with since when", async () => {
    const { r, suppression, publisher } = withList();
    await suppression.put({
      recipient: gone,
      since: "2026-11-20T08:00:00.000Z",
      source: "bounce",
      reason: "550 5.1.1 User unknown",
      enhanced: "5.1.1",
    });
    await r.submit({ from: "app@contoso.test", to: [gone] });
    await r.pump();
    expect(publisher.events).toEqual([
      expect.objectContaining({
        type: "suppressed",
        recipient: gone,
        suppressedSince: "2026-11-20T08:00:00.000Z",
        enhancedStatus: "5.1.1",
      }),
    ]);
    expect(publisher.events[0]?.remoteHost).toBeUndefined();
  });

  it("a publisher that fails does not hold up delivery", async () => {
    const events = { publish: () => Promise.reject(new Error("bus unavailable")) };
    const { r } = relay({}, {}, { events });
    const m = await r.submit({ from: "app@contoso.test", to: [ann] });
    await r.pump();
    expect(await r.row(m.id, ann)).toMatchObject({ status: "Delivered" });
    expect(r.delivery.peek()).toEqual([]);
  });
});
