// Reply parsing and classification: RFC 5321/2034/3463 examples and replies real servers send.
import { describe, expect, test } from "vitest";
import {
  classifyReply,
  formatLastError,
  type NetworkFailureKind,
  networkFailure,
  parseReply,
  REPLY_RULES,
  replyRuleFor,
} from "#core/outcome.ts";
import { REMOTE_PERMANENT, type SmtpReply } from "#core/replies.ts";

describe("parseReply", () => {
  test.each<[number, string, string, string]>([
    // RFC 3463 X.1.1 "Bad destination mailbox address"
    [550, "5.1.1 User unknown", "5.1.1", "User unknown"],
    [
      550,
      "5.1.1 <nobody@contoso.com>: Recipient address rejected",
      "5.1.1",
      "<nobody@contoso.com>: Recipient address rejected",
    ],
    // No enhanced code: the class default X.0.0.
    [550, "User unknown", "5.0.0", "User unknown"],
    [451, "Greylisted, try later", "4.0.0", "Greylisted, try later"],
    [250, "Ok", "2.0.0", "Ok"],
    [250, "2.0.0 Ok: queued as 4XyZ1", "2.0.0", "Ok: queued as 4XyZ1"],
    // Three-digit detail (RFC 3463 "detail = 1*3digit"), as Exchange Online sends.
    [
      550,
      "5.7.509 Access denied, sending domain does not pass DMARC verification",
      "5.7.509",
      "Access denied, sending domain does not pass DMARC verification",
    ],
    [556, "5.1.10 Recipient address has null MX", "5.1.10", "Recipient address has null MX"],
    // The whole reply as nodemailer reports it, code prefix included.
    [451, "451 4.7.1 Greylisted, try later", "4.7.1", "Greylisted, try later"],
    // RFC 2034 §4: "a 4xx response must incorporate a 4.X.X code" — a mismatch stays in the text.
    [550, "4.2.2 Mailbox full", "5.0.0", "4.2.2 Mailbox full"],
    [451, "5.7.1 Rejected", "4.0.0", "5.7.1 Rejected"],
    // Not an enhanced code: the digits run into the text.
    [550, "5.1.1User unknown", "5.0.0", "5.1.1User unknown"],
    // A 3xx where a final reply was due: a protocol error (RFC 3463 X.5.0).
    [354, "Start mail input", "4.5.0", "Start mail input"],
    [550, "5.1.1", "5.1.1", ""],
  ])("%d %j → %s %j", (code, text, enhanced, rest) => {
    expect(parseReply(code, text)).toEqual({ code, enhanced, text: rest });
  });

  test("a multi-line reply (RFC 5321 §4.2.1 '550-…' continuation lines) becomes one line, the repeated code dropped", () => {
    const gmail = [
      "550-5.1.1 The email account that you tried to reach does not exist. Please try",
      "550-5.1.1 double-checking the recipient's email address for typos or",
      "550-5.1.1 unnecessary spaces. Learn more at",
      "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si - gsmtp",
    ].join("\r\n");
    expect(parseReply(550, gmail)).toEqual({
      code: 550,
      enhanced: "5.1.1",
      text: "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. Learn more at https://support.google.com/mail/?p=NoSuchUser a1si - gsmtp",
    });
  });
});

describe("classifyReply", () => {
  test.each<[number, string, string]>([
    [250, "2.0.0 Ok: queued", "delivered"],
    [251, "2.1.5 User not local; will forward", "delivered"],
    [451, "4.7.1 Greylisted, try later", "transient"],
    [450, "4.2.0 Mailbox busy", "transient"],
    // RFC 5321 §3.8: "421 <domain> Service not available, closing transmission channel"
    [421, "4.7.0 Try again later, closing connection", "transient"],
    [421, "Service not available", "transient"],
    // Mailbox full: 452 4.2.2 retries; 552 5.2.2 is the server's permanent answer.
    [452, "4.2.2 Mailbox full", "transient"],
    [552, "5.2.2 Mailbox full", "permanent"],
    // RFC 5321 §4.5.3.1.10: "Clients SHOULD treat a 552 code in this case as a temporary … failure"
    [552, "5.5.3 Too many recipients", "transient"],
    [552, "Too many recipients", "transient"],
    [552, "5.3.4 Message size exceeds fixed maximum message size", "permanent"],
    [550, "5.1.1 User unknown", "permanent"],
    [554, "5.7.1 Service unavailable; Client host blocked", "permanent"],
    [553, "5.1.3 Bad recipient address syntax", "permanent"],
    // The basic code governs a mismatched enhanced code.
    [550, "4.2.2 Mailbox full", "permanent"],
    [451, "5.7.1 Rejected", "transient"],
    // Unknown: temporary.
    [354, "Start mail input", "transient"],
    [999, "???", "transient"],
  ])("%d %s → %s", (code, text, expected) => {
    expect(classifyReply(parseReply(code, text))).toBe(expected);
  });

  test("an already-built reply with a mismatched enhanced code is classified by its basic code", () => {
    expect(classifyReply({ code: 550, enhanced: "4.4.7", text: "expired" })).toBe("permanent");
    expect(classifyReply({ code: 421, enhanced: "5.7.0", text: "closing" })).toBe("transient");
  });

  test("every rule says why, and the rule that decided can be shown", () => {
    for (const rule of REPLY_RULES) expect(rule.why.length).toBeGreaterThan(10);
    expect(replyRuleFor(parseReply(552, "5.5.3 Too many recipients"))?.why).toMatch(
      /RFC 5321 §4\.5\.3\.1\.10/,
    );
  });
});

describe("networkFailure", () => {
  test.each<[NetworkFailureKind, string, string]>([
    [
      "connect",
      "connect ECONNREFUSED 10.0.0.5:25",
      "451 4.4.1 Unable to connect: connect ECONNREFUSED 10.0.0.5:25",
    ],
    ["timeout", "no greeting in 60 s", "451 4.4.2 Connection timed out: no greeting in 60 s"],
    ["tls", "certificate has expired", "451 4.7.5 TLS negotiation failed: certificate has expired"],
    [
      "dns",
      "SERVFAIL for fabrikam.com MX",
      "451 4.4.3 DNS lookup failed: SERVFAIL for fabrikam.com MX",
    ],
    [
      "protocol",
      "unexpected reply to EHLO",
      "451 4.5.0 SMTP protocol error: unexpected reply to EHLO",
    ],
  ])(
    "%s → %s (transient) for the admin; the reply keeps the standard text",
    (kind, detail, formatted) => {
      const { reply, detail: forAdmin } = networkFailure(kind, detail);
      expect(formatLastError(undefined, reply, forAdmin)).toBe(formatted);
      expect(classifyReply(reply)).toBe("transient");
      // What a sender may see in a DSN names no address or cause.
      expect(formatted.startsWith(`${reply.code} ${reply.enhanced} ${reply.text}: `)).toBe(true);
      expect(reply.text).not.toContain(detail);
    },
  );

  test("an empty detail leaves just the failure", () => {
    expect(networkFailure("timeout", "  ")).toEqual({
      reply: { code: 451, enhanced: "4.4.2", text: "Connection timed out" },
    });
  });
});

describe("REMOTE_PERMANENT", () => {
  const cases: [string, SmtpReply, string][] = [
    // RFC 7505: null MX → 556 5.1.10 "Recipient address has null MX"
    ["null MX", REMOTE_PERMANENT.nullMx("nomail.example"), "556 5.1.10"],
    ["NXDOMAIN", REMOTE_PERMANENT.nxDomain("fabrikam.invalid"), "550 5.4.4"],
    ["no MX or address", REMOTE_PERMANENT.noMailHost("fabrikam.com"), "550 5.4.4"],
    ["no connector", REMOTE_PERMANENT.unroutable("no send connector"), "550 5.4.4"],
    // Exchange's NDR for an expired message: "550 4.4.7 QUEUE.Expired; message expired"
    ["expired", REMOTE_PERMANENT.expired, "550 4.4.7"],
    ["hop count", REMOTE_PERMANENT.hopCount, "554 5.4.6"],
  ];
  test.each(cases)("%s is %s and permanent", (_name, reply, codes) => {
    expect(`${reply.code} ${reply.enhanced}`).toBe(codes);
    expect(classifyReply(reply)).toBe("permanent");
  });

  test("the domain is named in the text", () => {
    expect(REMOTE_PERMANENT.nxDomain("fabrikam.invalid").text).toBe(
      "SMTPSEND.DNS.NonExistentDomain; nonexistent domain fabrikam.invalid",
    );
  });
});

describe("formatLastError", () => {
  test("remote host, then the reply, as Exchange's LastError", () => {
    expect(formatLastError("mx1.contoso.com", parseReply(451, "4.7.1 Greylisted, try later"))).toBe(
      "mx1.contoso.com: 451 4.7.1 Greylisted, try later",
    );
  });

  test("without a host (no connection was made)", () => {
    expect(formatLastError(undefined, REMOTE_PERMANENT.expired)).toBe(
      "550 4.4.7 QUEUE.Expired; message expired",
    );
  });

  test("one line, bounded in length", () => {
    const long = { code: 550, enhanced: "5.0.0", text: `a\r\nb ${"x".repeat(5000)}` };
    const s = formatLastError("mx.example", long);
    expect(s).not.toMatch(/[\r\n]/);
    expect(s.startsWith("mx.example: 550 5.0.0 a b xxx")).toBe(true);
    expect(s.length).toBe(1000);
  });
});
