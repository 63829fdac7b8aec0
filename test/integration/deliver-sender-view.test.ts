// What an outside sender sees after an internal failure (standard text in the DSN) and what the admin sees (the detail in LastError and tracking).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Port25GuardCourier } from "#adapters/aws/port25.ts";
import { parseReport } from "#test/support/dsn.ts";
import { rawOf, sendConnector, TestRelay } from "#test/support/relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let sink: Sink;

beforeAll(async () => {
  sink = await startSink();
});

afterAll(async () => {
  await sink.close();
});

/** A relay whose first deferral is already past the delay notification time, so it sends a delay DSN. */
function relay(connector: Record<string, unknown>, port25Enabled = true): TestRelay {
  return new TestRelay({
    records: [
      sendConnector({ name: "Outbound", dnsRoutingEnabled: false, ...connector }),
      { kind: "TransportSettings", delayNotificationTimeoutSeconds: 1 },
    ],
    wrapCourier: (inner) => new Port25GuardCourier(inner, { port25Enabled }),
  });
}

/** Submits, routes, lets the notification time pass, attempts once; returns the delay DSN and the row. */
async function deferOnce(r: TestRelay) {
  const m = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
  await r.runRoute();
  r.advance(2);
  await r.runDeliver();
  const reports = r.reports();
  expect(reports).toHaveLength(1);
  const raw = (await rawOf(r, reports[0]!)).toString("utf8");
  const events = await r.tracking.events({ messageId: m.id, recipient: "ann@fabrikam.test" });
  return {
    raw,
    report: await parseReport(Buffer.from(raw)),
    row: await r.row(m.id, "ann@fabrikam.test"),
    defer: events.find((e) => e.event === "DEFER"),
  };
}

describe("the sender sees standard text; the admin sees the detail", () => {
  it("a missing smart-host secret: the delay DSN says 4.7.0 without the secret's name", async () => {
    const r = relay({
      smartHosts: [`127.0.0.1:${sink.port}`],
      smartHostAuthMechanism: "BasicAuth",
      smartHostAuthSecret: "relay/smarthost-credentials",
    });
    const { raw, report, row, defer } = await deferOnce(r);

    expect(report.perRecipient[0]).toMatchObject({
      action: "delayed",
      status: "4.7.0",
      "diagnostic-code": "smtp; 451 4.7.0 Temporary authentication failure",
    });
    expect(raw).not.toMatch(/smarthost-credentials|Smart host credentials|secret/i);
    expect(row).toMatchObject({ status: "Deferred" });
    expect(row?.lastError).toContain(
      '451 4.7.0 Smart host credentials "relay/smarthost-credentials" unavailable',
    );
    expect(defer?.detail).toContain("relay/smarthost-credentials");
  });

  it("port 25 not enabled: the delay DSN says 4.4.1 without the setting or the docs", async () => {
    const r = relay({ smartHosts: ["127.0.0.1:25"] }, false);
    const { raw, report, row } = await deferOnce(r);

    expect(report.perRecipient[0]?.["diagnostic-code"]).toBe("smtp; 451 4.4.1 Unable to connect");
    expect(raw).not.toMatch(/mxDeliveryEnabled|docs\/aws\.md|port 25/i);
    expect(row?.lastError).toBe(
      "127.0.0.1: 451 4.4.1 Unable to connect: outbound port 25 is not enabled for this deployment (mxDeliveryEnabled false; see docs/aws.md, port 25 request)",
    );
  });

  it("a refused connection: the DSN names no address, LastError has the socket error", async () => {
    const r = relay({ smartHosts: ["127.0.0.1:1"] });
    const { raw, report, row } = await deferOnce(r);

    expect(report.perRecipient[0]?.["diagnostic-code"]).toBe("smtp; 451 4.4.1 Unable to connect");
    expect(raw).not.toContain("ECONNREFUSED");
    expect(row?.lastError).toMatch(/451 4\.4\.1 Unable to connect: ECONNREFUSED/);
  });
});
