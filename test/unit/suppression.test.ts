// The suppression rules as a table: which remote replies suppress an address, and what the NDR and LastError say.
import { describe, expect, test } from "vitest";
import { wantsDeferredEvent } from "#core/events/delivery-event.ts";
import type { RecipientOutcome } from "#core/message.ts";
import { parseReply } from "#core/outcome.ts";
import { DEFAULT_TRANSPORT_SETTINGS } from "#core/records/transport-settings.ts";
import {
  suppressedOutcome,
  suppressedReply,
  suppressionAddress,
  suppressionFor,
} from "#core/suppression/list.ts";

const now = new Date("2026-11-24T10:00:00.000Z");
const context = { messageId: "m1", connector: "To Internet", now };
const bounce = (wire: string, remoteHost = "mx1.fabrikam.com[192.0.2.25]") => {
  const code = Number(wire.slice(0, 3));
  const o: RecipientOutcome = {
    recipient: "Ann@Fabrikam.com",
    status: code >= 500 ? "permanent" : "transient",
    reply: parseReply(code, wire.slice(4)),
  };
  if (remoteHost) o.remoteHost = remoteHost;
  return o;
};

describe("which hard bounces suppress (SES's hard-bounce list, RFC 3463 subjects)", () => {
  test.each([
    ["550 5.1.1 The email account that you tried to reach does not exist (Gmail)", true],
    [
      "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup (Microsoft 365)",
      true,
    ],
    [
      "550 5.4.1 Recipient address rejected: Access denied (Exchange Online directory-based edge blocking)",
      true,
    ],
    ["554 5.2.1 The email account that you tried to reach is disabled", true],
    ["550 5.1.2 Host unknown", true],
    ["552 5.2.2 Mailbox full: the mailbox exists", false],
    ["550 5.7.1 Message rejected as spam: about the sender, not the address", false],
    ["550 5.7.26 Unauthenticated email is not accepted (DMARC): the sender's problem", false],
    ["451 4.1.1 Temporary lookup failure: transient never suppresses", false],
  ])("%s → %s", (wire, suppresses) => {
    expect(suppressionFor(DEFAULT_TRANSPORT_SETTINGS, bounce(wire), context) !== undefined).toBe(
      suppresses,
    );
  });

  test("only a reply from the remote host: the relay's own 5.1.2 (no MX, NXDOMAIN) says nothing about the mailbox", () => {
    expect(
      suppressionFor(DEFAULT_TRANSPORT_SETTINGS, bounce("550 5.1.2 Host unknown", ""), context),
    ).toBeUndefined();
  });

  test("the entry: lower-cased address, 14 days, the wire reply and where it came from", () => {
    expect(
      suppressionFor(DEFAULT_TRANSPORT_SETTINGS, bounce("550 5.1.1 User unknown"), context),
    ).toEqual({
      recipient: "ann@fabrikam.com",
      since: "2026-11-24T10:00:00.000Z",
      expiresAt: "2026-12-08T10:00:00.000Z",
      source: "bounce",
      reason: "550 5.1.1 User unknown",
      remoteHost: "mx1.fabrikam.com[192.0.2.25]",
      enhanced: "5.1.1",
      messageId: "m1",
      connector: "To Internet",
    });
  });

  test("a duration of 0 turns automatic suppression off", () => {
    const settings = { ...DEFAULT_TRANSPORT_SETTINGS, suppressionDurationSeconds: 0 };
    expect(suppressionFor(settings, bounce("550 5.1.1 User unknown"), context)).toBeUndefined();
  });
});

describe("what a suppressed recipient's sender and admin see", () => {
  const entry = suppressionFor(
    DEFAULT_TRANSPORT_SETTINGS,
    bounce("550 5.1.1 User unknown"),
    context,
  )!;

  test("the NDR keeps the original code and quotes the original reply; the admin's reason stays out", () => {
    expect(suppressedReply(entry)).toEqual({
      code: 550,
      enhanced: "5.1.1",
      text: "Recipient address suppressed since 2026-11-24T10:00:00.000Z after a hard bounce; the remote server said: 550 5.1.1 User unknown",
    });
    expect(
      suppressedReply({
        recipient: "a@b.c",
        since: entry.since,
        source: "admin",
        reason: "ticket 4711",
      }),
    ).toEqual({
      code: 550,
      enhanced: "5.7.1",
      text: "Recipient address suppressed by the administrator since 2026-11-24T10:00:00.000Z",
    });
  });

  test("the outcome is permanent and not attempted, with LastError's detail", () => {
    expect(suppressedOutcome("Ann@Fabrikam.com", entry)).toMatchObject({
      recipient: "Ann@Fabrikam.com",
      status: "permanent",
      suppressedSince: entry.since,
      detail:
        "Not attempted: recipient on the suppression list since 2026-11-24T10:00:00.000Z until 2026-12-08T10:00:00.000Z (hard bounce from mx1.fabrikam.com[192.0.2.25]: 550 5.1.1 User unknown)",
    });
  });

  test.each([
    ["Ann@Fabrikam.COM", { ok: true, recipient: "ann@fabrikam.com" }],
    ["ann", { ok: false, reason: "no domain" }],
    ["<ann@fabrikam.com>", { ok: false, reason: "angle bracket inside the path" }],
  ])("address %s", (text, expected) => {
    expect(suppressionAddress(text)).toEqual(expected);
  });
});

test.each([
  [1, 5, true],
  [2, 5, false],
  [5, 5, true],
  [9, 5, false],
  [10, 5, true],
])("deferred event at attempt %i with every %i: %s", (attempt, every, wanted) => {
  expect(wantsDeferredEvent(attempt, every)).toBe(wanted);
});
