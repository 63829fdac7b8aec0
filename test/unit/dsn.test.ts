// DSNs (RFC 3464 in an RFC 6522 multipart/report), parsed back with mailparser as a mail client would.
import { type ParsedMail, simpleParser } from "mailparser";
import { describe, expect, test } from "vitest";
import { buildDsn, type DsnInput, DsnNotAllowedError, shouldSendDsn } from "#core/dsn.ts";
import type { Origin } from "#core/message.ts";
import { parseReply } from "#core/outcome.ts";
import { REMOTE_PERMANENT } from "#core/replies.ts";

const arrival = new Date("2026-03-02T09:00:00Z");
const now = new Date("2026-03-02T09:05:00Z");
const originalHeaders = [
  "Received: from app01 (app01.contoso.com [10.0.0.5]) by relay.contoso.com",
  "From: Billing App <app@contoso.com>",
  "To: nobody@fabrikam.com",
  "Subject: Invoice 2026-031",
  "Message-ID: <inv-2026-031@contoso.com>",
  "Date: Mon, 02 Mar 2026 08:59:58 +0000",
  "",
  "",
].join("\r\n");

const failure = (extra: Partial<DsnInput> = {}): DsnInput => ({
  kind: "failure",
  reportingMta: "relay.contoso.com",
  postmaster: "postmaster@contoso.com",
  originalSender: "app@contoso.com",
  originalMessageId: "20260302T090000Z-3f9c2a1b7d4e",
  arrivalDate: arrival,
  now,
  recipients: [
    {
      recipient: "nobody@fabrikam.com",
      action: "failed",
      status: "5.1.1",
      remoteMta: "mx1.fabrikam.com",
      diagnostic: parseReply(550, "5.1.1 User unknown"),
      lastAttemptAt: new Date("2026-03-02T09:04:30Z"),
    },
  ],
  originalHeaders,
  ...extra,
});

const parse = (raw: Uint8Array) => simpleParser(Buffer.from(raw), { keepDeliveryStatus: true });

/** RFC 3464 §2.1: per-message fields, then one block per recipient, blank-line separated. */
function statusGroups(mail: ParsedMail): Record<string, string>[] {
  const part = mail.attachments.find((a) => a.contentType === "message/delivery-status");
  if (!part) throw new Error("no message/delivery-status part");
  return part.content
    .toString("utf8")
    .replace(/\r\n[ \t]+/g, " ")
    .split(/\r\n\r\n/)
    .map((g) => g.trim())
    .filter(Boolean)
    .map((g) =>
      Object.fromEntries(
        g.split("\r\n").map((l) => {
          const i = l.indexOf(":");
          return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
        }),
      ),
    );
}

describe("an NDR for a 550 5.1.1 (RFC 3464 §2, Exchange NDR style)", async () => {
  const dsn = buildDsn(failure());
  const mail = await parse(dsn.raw);
  const [perMessage, perRecipient] = statusGroups(mail);

  test("goes from the null sender to the original sender", () => {
    expect(dsn.mailFrom).toBe("");
    expect(dsn.to).toBe("app@contoso.com");
  });

  test("headers: From postmaster, To the sender, Undeliverable subject, Auto-Submitted (RFC 3834)", () => {
    expect(mail.from?.value[0]?.address).toBe("postmaster@contoso.com");
    expect(mail.to && !Array.isArray(mail.to) && mail.to.value[0]?.address).toBe("app@contoso.com");
    expect(mail.subject).toBe("Undeliverable: Invoice 2026-031");
    expect(mail.headers.get("auto-submitted")).toBe("auto-replied");
    expect(mail.date?.toISOString()).toBe(now.toISOString());
    expect(mail.messageId).toMatch(/^<[0-9a-f]{32}@relay\.contoso\.com>$/);
    expect(mail.inReplyTo).toBe("<inv-2026-031@contoso.com>");
  });

  test("is a multipart/report with report-type=delivery-status (RFC 6522)", () => {
    const ct = mail.headers.get("content-type") as {
      value: string;
      params: Record<string, string>;
    };
    expect(ct.value).toBe("multipart/report");
    expect(ct.params["report-type"]).toBe("delivery-status");
    expect(mail.attachments.map((a) => a.contentType)).toEqual([
      "message/delivery-status",
      "text/rfc822-headers",
    ]);
  });

  test("per-message fields: Reporting-MTA, the relay's id, Arrival-Date", () => {
    expect(perMessage).toEqual({
      "reporting-mta": "dns; relay.contoso.com",
      "x-relay-message-id": "20260302T090000Z-3f9c2a1b7d4e",
      "arrival-date": "Mon, 02 Mar 2026 09:00:00 +0000",
    });
  });

  test("per-recipient fields (RFC 3464 §2.3)", () => {
    expect(perRecipient).toEqual({
      "final-recipient": "rfc822; nobody@fabrikam.com",
      action: "failed",
      status: "5.1.1",
      "remote-mta": "dns; mx1.fabrikam.com",
      "diagnostic-code": "smtp; 550 5.1.1 User unknown",
      "last-attempt-date": "Mon, 02 Mar 2026 09:04:30 +0000",
    });
  });

  test("the human part says what happened, what the server said and what to do", () => {
    const text = mail.text ?? "";
    expect(text).toContain("Delivery has failed to these recipients or groups:");
    expect(text).toContain("nobody@fabrikam.com");
    expect(text).toMatch(/couldn't be found.*Check the address for typing errors/s);
    expect(text).toContain("Generating server: relay.contoso.com");
    expect(text).toContain("Remote server: mx1.fabrikam.com");
    expect(text).toContain("Remote server returned '550 5.1.1 User unknown'");
    expect(text).toContain('Your message "Invoice 2026-031"');
  });

  test("the third part is the original header block", () => {
    const headers = mail.attachments[1]?.content.toString("utf8");
    expect(headers).toBe(`${originalHeaders.replace(/(\r\n)+$/, "")}\r\n`);
  });
});

describe("a delay DSN", async () => {
  const until = new Date("2026-03-04T09:00:00Z");
  const dsn = buildDsn(
    failure({
      kind: "delay",
      now: new Date("2026-03-02T13:00:00Z"),
      recipients: [
        {
          recipient: "a@fabrikam.com",
          action: "delayed",
          status: "4.4.1",
          diagnostic: parseReply(451, "4.4.1 Unable to connect: connect ETIMEDOUT 203.0.113.7:25"),
          lastAttemptAt: new Date("2026-03-02T12:55:00Z"),
          willRetryUntil: until,
        },
      ],
    }),
  );
  const mail = await parse(dsn.raw);
  const [, rcpt] = statusGroups(mail);

  test("subject and fields say delayed, with Will-Retry-Until (RFC 3464 §2.3.9)", () => {
    expect(mail.subject).toBe("Delivery delayed: Invoice 2026-031");
    expect(rcpt).toMatchObject({
      action: "delayed",
      status: "4.4.1",
      "will-retry-until": "Wed, 04 Mar 2026 09:00:00 +0000",
    });
    expect(rcpt?.["remote-mta"]).toBeUndefined();
  });

  test("the human part tells the sender not to resend, and until when the relay tries", () => {
    expect(mail.text).toContain("Delivery is delayed to these recipients or groups:");
    expect(mail.text).toContain("You don't need to send it again");
    expect(mail.text?.replace(/\s+/g, " ")).toContain("until Wed, 04 Mar 2026 09:00:00 +0000");
  });
});

describe("report details", () => {
  test("an expired message: Action failed with Status 4.4.7 and the last error (RFC 3464 §2.3.4)", async () => {
    const mail = await parse(
      buildDsn(
        failure({
          recipients: [
            {
              recipient: "a@fabrikam.com",
              action: "failed",
              status: REMOTE_PERMANENT.expired.enhanced,
              remoteMta: "mx1.fabrikam.com",
              diagnostic: parseReply(451, "4.7.1 Greylisted, try later"),
            },
          ],
        }),
      ).raw,
    );
    expect(statusGroups(mail)[1]).toMatchObject({
      action: "failed",
      status: "4.4.7",
      "diagnostic-code": "smtp; 451 4.7.1 Greylisted, try later",
    });
    expect(mail.text).toContain("couldn't be delivered before it expired");
  });

  test("one group per recipient, in order", async () => {
    const mail = await parse(
      buildDsn(
        failure({
          recipients: [
            { recipient: "a@fabrikam.com", action: "failed", status: "5.1.1" },
            { recipient: "b@nomail.example", action: "failed", status: "5.1.10" },
            { recipient: "c@fabrikam.com", action: "failed", status: "5.2.2" },
          ],
        }),
      ).raw,
    );
    const groups = statusGroups(mail);
    expect(groups.slice(1).map((g) => [g["final-recipient"], g.status])).toEqual([
      ["rfc822; a@fabrikam.com", "5.1.1"],
      ["rfc822; b@nomail.example", "5.1.10"],
      ["rfc822; c@fabrikam.com", "5.2.2"],
    ]);
    expect(mail.text).toContain("null MX");
    expect(mail.text).toContain("mailbox is full");
  });

  test("a non-ASCII subject is RFC 2047-encoded in the header and decoded by clients", async () => {
    const headers = "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus K\u00f6ln\r\nFrom: a@contoso.com\r\n";
    const dsn = buildDsn(failure({ originalHeaders: headers }));
    const top = new TextDecoder().decode(dsn.raw).split("\r\n\r\n")[0] ?? "";
    expect(top).toMatch(/^Subject: Undeliverable: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=/m);
    expect(top).toMatch(/^[\x20-\x7e\r\n]*$/);
    const mail = await parse(dsn.raw);
    expect(mail.subject).toBe("Undeliverable: Grüße aus Köln");
    expect(mail.attachments[1]?.content.toString("utf8")).toBe(headers);
  });

  test("a long non-ASCII subject is split into encoded-words of at most 75 characters", async () => {
    const subject = "Ärger ".repeat(40).trim();
    const dsn = buildDsn(failure({ originalHeaders: `Subject: ${subject}\r\n` }));
    const text = new TextDecoder().decode(dsn.raw);
    for (const w of text.match(/=\?UTF-8\?B\?[^?]*\?=/g) ?? [])
      expect(w.length).toBeLessThanOrEqual(75);
    expect((await parse(dsn.raw)).subject).toBe(`Undeliverable: ${subject}`);
  });

  test("the Subject and Message-ID it returns for tracking are the ones in the header", () => {
    const subject = "Ärger ".repeat(40).trim();
    const dsn = buildDsn(failure({ originalHeaders: `Subject: ${subject}\r\n` }));
    const top = (new TextDecoder().decode(dsn.raw).split("\r\n\r\n")[0] ?? "").replace(
      /\r\n[ \t]+/g,
      " ",
    );
    expect(top).toContain(`\r\nSubject: ${dsn.subject}\r\n`);
    expect(dsn.subject).toMatch(/^Undeliverable: =\?UTF-8\?B\?/);
    expect(top).toContain(`\r\nMessage-ID: ${dsn.messageId}\r\n`);
    expect(dsn.messageId).toMatch(/^<[0-9a-f]{32}@relay\.contoso\.com>$/);
  });

  test("no Subject header: just the prefix", async () => {
    const mail = await parse(buildDsn(failure({ originalHeaders: "From: a@contoso.com\r\n" })).raw);
    expect(mail.subject).toBe("Undeliverable:");
  });

  test("a non-ASCII recipient uses RFC 6533's utf-8 address type with \\x{HEX} escapes", async () => {
    const mail = await parse(
      buildDsn(
        failure({
          recipients: [{ recipient: "jörg@fabrikam.com", action: "failed", status: "5.1.1" }],
        }),
      ).raw,
    );
    expect(statusGroups(mail)[1]?.["final-recipient"]).toBe("utf-8; j\\x{F6}rg@fabrikam.com");
  });

  test("every line ends in CRLF and is at most 998 octets, even with huge input lines", () => {
    const long = "x".repeat(5000);
    const dsn = buildDsn(
      failure({
        originalHeaders: `Subject: hi\nX-Long: ${long}\nX-Words: ${"word ".repeat(400)}\n\n`,
        recipients: [
          {
            recipient: "a@fabrikam.com",
            action: "failed",
            status: "5.0.0",
            diagnostic: { code: 550, enhanced: "5.0.0", text: `${"blah ".repeat(300)}${long}` },
          },
        ],
      }),
    );
    const raw = Buffer.from(dsn.raw);
    expect(raw.includes(Buffer.from("\n"))).toBe(true);
    expect(raw.toString("latin1")).not.toMatch(/[^\r]\n|\r[^\n]/);
    for (const line of raw.toString("latin1").split("\r\n"))
      expect(line.length).toBeLessThanOrEqual(998);
  });

  test("each report has its own Message-ID and, by default, its own boundary", async () => {
    const a = buildDsn(failure({ boundary: undefined }));
    const b = buildDsn(failure({ boundary: undefined }));
    const [ma, mb] = await Promise.all([parse(a.raw), parse(b.raw)]);
    expect(ma.messageId).not.toBe(mb.messageId);
    const boundary = (m: ParsedMail) =>
      (m.headers.get("content-type") as { params: Record<string, string> }).params.boundary;
    expect(boundary(ma)).not.toBe(boundary(mb));
  });

  test("a display name already in the postmaster setting is kept", async () => {
    const mail = await parse(
      buildDsn(failure({ postmaster: "Contoso Postmaster <postmaster@contoso.com>" })).raw,
    );
    expect(mail.from?.value[0]).toEqual({
      name: "Contoso Postmaster",
      address: "postmaster@contoso.com",
    });
  });
});

describe("no DSN loops (RFC 5321 §4.5.5)", () => {
  const smtp: Origin = {
    type: "smtp",
    receiveConnector: "Default Frontend",
    clientIp: "10.0.0.5",
    clientHelo: "app01",
    tls: true,
  };
  const dsnOrigin: Origin = { type: "dsn", aboutMessageId: "20260302T090000Z-3f9c2a1b7d4e" };

  test.each<[string, Origin, boolean]>([
    ["app@contoso.com", smtp, true],
    ["", smtp, false],
    ["<>", smtp, false],
    // A report the relay made is never reported on, even if its envelope were not <>.
    ["postmaster@contoso.com", dsnOrigin, false],
    ["", dsnOrigin, false],
  ])("sender %j from %o → %s", (sender, origin, expected) => {
    expect(shouldSendDsn(sender, origin)).toBe(expected);
  });

  test("building a DSN to the null sender is refused", () => {
    expect(() => buildDsn(failure({ originalSender: "" }))).toThrow(DsnNotAllowedError);
  });

  test("a DSN with no recipients is refused", () => {
    expect(() => buildDsn(failure({ recipients: [] }))).toThrow(DsnNotAllowedError);
  });
});
