// Table tests for the SMTPUTF8 and DSN parameters (RFC 6531, RFC 3461) and the 8-bit to 7-bit conversion (RFC 6152).
import { simpleParser } from "mailparser";
import { describe, expect, test } from "vitest";
import { downgradeTo7bit } from "#adapters/mime/downgrade.ts";
import {
  decodeXtext,
  encodeXtext,
  parseEnvid,
  parseNotify,
  parseOrcpt,
  wantsNotice,
} from "#core/dsn-params.ts";
import {
  checkUtf8Address,
  mailDsnParams,
  needsSmtpUtf8,
  rcptDsnParams,
} from "#core/receive/extensions.ts";

describe("xtext (RFC 3461 §4)", () => {
  test.each([
    ["abc", "abc"],
    ["a+2Bb", "a+b"],
    ["a+3Db", "a=b"],
    ["rfc822;user+2Btag@contoso.com", "rfc822;user+tag@contoso.com"],
    ["+20", " "],
  ])("%j decodes to %j and encodes back", (xtext, text) => {
    expect(decodeXtext(xtext)).toBe(text);
    expect(encodeXtext(text)).toBe(xtext);
  });

  test.each([
    ["a+2b", "lower-case hex"],
    ["a+2", "truncated"],
    ["a=b", "a bare ="],
    ["a b", "a space"],
    ["ü", "non-ASCII"],
  ])("%j is not xtext (%s)", (text) => {
    expect(decodeXtext(text)).toBeUndefined();
  });
});

describe("NOTIFY (RFC 3461 §4.1)", () => {
  test.each([
    ["NEVER", []],
    ["never", []],
    ["SUCCESS", ["SUCCESS"]],
    ["FAILURE,DELAY", ["FAILURE", "DELAY"]],
    ["SUCCESS,FAILURE,DELAY", ["SUCCESS", "FAILURE", "DELAY"]],
  ])("%j", (value, notify) => {
    expect(parseNotify(value)).toEqual({ ok: true, value: notify });
  });

  test.each([
    ["NEVER,SUCCESS", "NEVER combined"],
    ["FAILURE,NEVER", "NEVER combined"],
    ["SOMETIMES", "unknown"],
    ["FAILURE,FAILURE", "twice"],
    ["", "unknown"],
  ])("%j is refused (%s)", (value, reason) => {
    const r = parseNotify(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  test("a bad NOTIFY is 501 5.5.4 at RCPT", () => {
    expect(rcptDsnParams({ NOTIFY: "NEVER,FAILURE" })).toMatchObject({
      ok: false,
      reply: { code: 501, enhanced: "5.5.4" },
    });
  });
});

describe("ORCPT and ENVID (RFC 3461 §4.2, §4.4), as smtp-server hands them (decoded)", () => {
  test.each([
    ["rfc822;user@contoso.com", "rfc822;user@contoso.com"],
    ["RFC822;User@Contoso.com", "rfc822;User@Contoso.com"],
    ["utf-8;用户@例子.测试", "utf-8;用户@例子.测试"],
  ])("ORCPT %j", (value, orcpt) => {
    expect(parseOrcpt(value)).toEqual({ ok: true, value: orcpt });
  });

  test.each([
    ["user@contoso.com", "without an address type"],
    [";user@contoso.com", "without an address type"],
    ["rfc 822;user@contoso.com", "not an atom"],
    ["rfc822;", "empty"],
    ["rfc822;a b@contoso.com", "spaces"],
    [`rfc822;${"a".repeat(500)}`, "500"],
  ])("ORCPT %j is refused (%s)", (value, reason) => {
    const r = parseOrcpt(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  test.each([
    ["QQ314159", true],
    ["id with spaces", true],
    ["x".repeat(100), true],
    ["x".repeat(101), false],
    ["ümlaut", false],
    ["", false],
  ])("ENVID %j ok=%s", (value, ok) => {
    expect(parseEnvid(value).ok).toBe(ok);
  });

  test("MAIL FROM's RET and ENVID become the message's DSN parameters", () => {
    expect(mailDsnParams({ RET: "hdrs", ENVID: "QQ314159" })).toEqual({
      ok: true,
      value: { ret: "HDRS", envid: "QQ314159" },
    });
    expect(mailDsnParams({ RET: "BODY" })).toMatchObject({ ok: false, reply: { code: 501 } });
    expect(mailDsnParams({ ENVID: true })).toMatchObject({ ok: false, reply: { code: 501 } });
  });
});

describe("which notices a recipient gets", () => {
  test.each([
    [undefined, { SUCCESS: false, FAILURE: true, DELAY: true }],
    [{}, { SUCCESS: false, FAILURE: true, DELAY: true }],
    [{ notify: [] }, { SUCCESS: false, FAILURE: false, DELAY: false }],
    [{ notify: ["SUCCESS"] }, { SUCCESS: true, FAILURE: false, DELAY: false }],
    [{ notify: ["FAILURE"] }, { SUCCESS: false, FAILURE: true, DELAY: false }],
  ] as const)("%j", (dsn, expected) => {
    const d = dsn as Parameters<typeof wantsNotice>[0];
    expect({
      SUCCESS: wantsNotice(d, "SUCCESS"),
      FAILURE: wantsNotice(d, "FAILURE"),
      DELAY: wantsNotice(d, "DELAY"),
    }).toEqual(expected);
  });
});

describe("SMTPUTF8 (RFC 6531)", () => {
  test("a UTF-8 address needs the SMTPUTF8 parameter: 553 5.6.7 without it", () => {
    expect(checkUtf8Address("jörg@contoso.com", false)).toMatchObject({
      code: 553,
      enhanced: "5.6.7",
    });
    expect(checkUtf8Address("jörg@contoso.com", true)).toBeUndefined();
    expect(checkUtf8Address("user@contoso.com", false)).toBeUndefined();
  });

  test.each([
    [true, ["jörg@contoso.com"], "Subject: hi", true],
    [true, ["user@contoso.com"], "Subject: Grüße", true],
    [true, ["user@contoso.com"], "Subject: hi", false],
    [false, ["user@contoso.com"], "Subject: Grüße", false],
  ])("announced=%s %j header %j needs SMTPUTF8: %s", (announced, addresses, header, needs) => {
    expect(needsSmtpUtf8(announced, addresses, Buffer.from(header))).toBe(needs);
  });
});

const seven = (b: Buffer) => b.every((x) => x < 0x80);

describe("8-bit to 7-bit conversion (RFC 6152)", () => {
  test("a single 8-bit text part becomes quoted-printable with the same text", async () => {
    const raw = Buffer.from(
      "From: a@contoso.com\r\nSubject: hi\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln.\r\n.Zeile mit Punkt\r\n",
    );
    const out = downgradeTo7bit(raw);
    expect(out && seven(out)).toBe(true);
    expect(out?.toString()).toContain("Content-Transfer-Encoding: quoted-printable");
    expect(out?.toString()).toContain("MIME-Version: 1.0");
    expect((await simpleParser(out!)).text).toBe("Grüße aus Köln.\n.Zeile mit Punkt\n");
  });

  test("in a multipart, 8-bit text is quoted-printable, 8-bit binary is base64, 7-bit parts stay byte for byte", async () => {
    const bin = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x41]);
    const raw = Buffer.concat([
      Buffer.from(
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\npreamble\r\n--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nplain part\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nnaïve café\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n',
      ),
      bin,
      Buffer.from("\r\n--b1--\r\n"),
    ]);
    const out = downgradeTo7bit(raw);
    expect(out && seven(out)).toBe(true);
    expect(out?.toString()).toContain(
      "\r\n--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nplain part\r\n--b1\r\n",
    );
    const parsed = await simpleParser(out!);
    expect(parsed.text?.trim()).toContain("naïve café");
    expect(parsed.attachments[0]?.content.equals(bin)).toBe(true);
  });

  test("8-bit in a header cannot be converted (that needs SMTPUTF8)", () => {
    expect(downgradeTo7bit(Buffer.from("Subject: Grüße\r\n\r\nbody\r\n"))).toBeUndefined();
  });

  test("a 7-bit message is returned as it is", () => {
    const raw = Buffer.from("Subject: hi\r\n\r\nbody\r\n");
    expect(downgradeTo7bit(raw)?.equals(raw)).toBe(true);
  });
});
