// Get-Queue, Get-Message and Get-MessageTrackingLog views from tracking rows and events, as tables.
import { describe, expect, test } from "vitest";
import type { RecipientRow, TrackingEvent } from "#core/ports.ts";
import { parseRecordOf } from "#core/records/index.ts";
import type { SendConnector } from "#core/records/send-connector.ts";
import { messageViews, queueViews, trackingLog } from "#core/usecases/admin-views.ts";

const connector = (fields: Record<string, unknown>): SendConnector => {
  const r = parseRecordOf("SendConnector", {
    kind: "SendConnector",
    addressSpaces: [{ domain: "*", cost: 1 }],
    ...fields,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.record;
};
const CONNECTORS = [
  connector({ name: "To Internet" }),
  connector({ name: "Smarthost", dnsRoutingEnabled: false, smartHosts: ["smtp.example.net:587"] }),
];

const row = (fields: Partial<RecipientRow>): RecipientRow => ({
  messageId: "m1",
  recipient: "bob@fabrikam.com",
  sender: "alice@contoso.com",
  status: "Routed",
  receivedAt: "2026-11-24T10:00:00.000Z",
  updatedAt: "2026-11-24T10:00:00.000Z",
  attempts: 0,
  ...fields,
});

describe("queueViews (Get-Queue)", () => {
  test("one queue per next hop with status, count, LastError and next retry; Submission and Poison always listed", () => {
    const rows = [
      row({
        messageId: "m1",
        status: "Deferred",
        connector: "To Internet",
        nextHop: "fabrikam.com",
        attempts: 2,
        lastError: "mx1.fabrikam.com: 451 4.7.1 Try again later",
        nextRetryAt: "2026-11-24T10:05:00.000Z",
        updatedAt: "2026-11-24T10:01:00.000Z",
      }),
      row({
        messageId: "m2",
        recipient: "carol@fabrikam.com",
        status: "Deferred",
        connector: "To Internet",
        nextHop: "fabrikam.com",
        lastError: "mx1.fabrikam.com: 421 4.3.2 Busy",
        nextRetryAt: "2026-11-24T10:03:00.000Z",
        updatedAt: "2026-11-24T10:02:00.000Z",
      }),
      row({ messageId: "m3", connector: "Smarthost", nextHop: "smtp.example.net:587" }),
      row({ messageId: "m4", status: "Suspended", connector: "Gone", nextHop: "tailspin.com" }),
      row({ messageId: "m5", status: "Queued" }),
    ];
    const views = queueViews(rows, CONNECTORS, { submission: 0, poison: 2 });
    expect(
      views.map((v) => [
        v.identity,
        v.deliveryType,
        v.status,
        v.messageCount,
        v.lastError,
        v.nextRetryTime,
      ]),
    ).toEqual([
      ["Submission", "Undefined", "Ready", 1, undefined, undefined],
      [
        "fabrikam.com",
        "MX",
        "Retry",
        2,
        "mx1.fabrikam.com: 421 4.3.2 Busy",
        "2026-11-24T10:03:00.000Z",
      ],
      ["smtp.example.net:587", "SmartHost", "Ready", 1, undefined, undefined],
      ["tailspin.com", "Unknown", "Suspended", 1, undefined, undefined],
      ["Poison", "Undefined", "Ready", 2, undefined, undefined],
    ]);
  });

  test("without a poison count (an SQS dead-letter queue not named) there is no Poison line", () => {
    expect(queueViews([], CONNECTORS).map((v) => v.identity)).toEqual(["Submission"]);
  });
});

describe("messageViews (Get-Message)", () => {
  test("a message's recipients in one queue are one line; identity is queue\\id", () => {
    const rows = [
      row({
        recipient: "bob@fabrikam.com",
        status: "Deferred",
        nextHop: "fabrikam.com",
        attempts: 3,
        size: 1200,
        subject: "Report",
        lastError: "x: 451 4.7.1 Later",
        nextRetryAt: "2026-11-24T10:05:00.000Z",
      }),
      row({
        recipient: "carol@fabrikam.com",
        status: "Suspended",
        nextHop: "fabrikam.com",
        attempts: 1,
        size: 1200,
      }),
      row({
        recipient: "dave@tailspin.com",
        status: "Suspended",
        nextHop: "tailspin.com",
        size: 1200,
      }),
    ];
    expect(messageViews(rows)).toEqual([
      {
        identity: "fabrikam.com\\m1",
        messageId: "m1",
        queue: "fabrikam.com",
        fromAddress: "alice@contoso.com",
        status: "Retry",
        size: 1200,
        subject: "Report",
        recipients: ["bob@fabrikam.com", "carol@fabrikam.com"],
        lastError: "x: 451 4.7.1 Later",
        nextRetryTime: "2026-11-24T10:05:00.000Z",
        retryCount: 3,
        receivedAt: "2026-11-24T10:00:00.000Z",
      },
      expect.objectContaining({
        identity: "tailspin.com\\m1",
        status: "Suspended",
        recipients: ["dave@tailspin.com"],
      }),
    ]);
  });
});

describe("trackingLog (Get-MessageTrackingLog)", () => {
  const ev = (fields: Partial<TrackingEvent>): TrackingEvent => ({
    messageId: "m1",
    recipient: "bob@fabrikam.com",
    sender: "alice@contoso.com",
    at: "2026-11-24T10:00:01.000Z",
    event: "ROUTE",
    source: "ROUTING",
    ...fields,
  });

  test("a RECEIVE line comes from the rows when none was recorded, first, with size and Message-ID", () => {
    const rows = new Map([
      ["m1", [row({ size: 812, subject: "Report", internetMessageId: "<a@contoso.com>" })]],
    ]);
    const lines = trackingLog(
      [
        ev({}),
        ev({ event: "DEFER", source: "SMTP", at: "2026-11-24T10:00:02.000Z", detail: "451" }),
      ],
      rows,
    );
    expect(
      lines.map((l) => [l.eventId, l.source, l.recipients, l.messageSubject, l.detail]),
    ).toEqual([
      ["RECEIVE", "SMTP", ["bob@fabrikam.com"], "Report", "812 bytes, Message-ID <a@contoso.com>"],
      ["ROUTE", "ROUTING", ["bob@fabrikam.com"], "Report", undefined],
      ["DEFER", "SMTP", ["bob@fabrikam.com"], "Report", "451"],
    ]);
  });

  test("a recorded RECEIVE is not doubled", () => {
    const rows = new Map([["m1", [row({})]]]);
    const lines = trackingLog(
      [ev({ event: "RECEIVE", source: "SMTP", at: "2026-11-24T10:00:00.000Z" })],
      rows,
    );
    expect(lines.map((l) => l.eventId)).toEqual(["RECEIVE"]);
  });
});
