// Inline bodies in queue messages: plain US-ASCII as text, everything else as base64, and both read back byte for byte.
import { describe, expect, test } from "vitest";
import { decodeInline, inlineBody } from "#core/usecases/body.ts";
import { parseSubmittedMessage } from "#core/usecases/queue-messages.ts";

const bytes = (s: string, encoding: BufferEncoding = "latin1") =>
  new Uint8Array(Buffer.from(s, encoding));

describe("inlineBody", () => {
  test.each([
    [
      "a MIME message of printable ASCII with CRLF and TAB",
      'Subject: hi\r\n\tfolded\r\n\r\nHello "you" \\ there.\r\n.\r\n',
    ],
    ["an empty body", ""],
  ])("%s travels as text and reads back unchanged", (_name, raw) => {
    const ref = inlineBody(bytes(raw));
    expect(ref).toEqual({ text: raw });
    expect(Buffer.from(decodeInline(ref)).toString("latin1")).toBe(raw);
  });

  test.each([
    ["8-bit (RFC 6152)", bytes("Subject: caf\u00e9\r\n\r\nna\u00efve\r\n", "utf8")],
    ["a NUL byte", bytes("a\u0000b")],
    ["an ESC byte", bytes("a\u001bb")],
    ["DEL", bytes("a\u007fb")],
  ])("a body with %s stays base64 and reads back unchanged", (_name, raw) => {
    const ref = inlineBody(raw);
    expect(ref).toEqual({ inline: Buffer.from(raw).toString("base64") });
    expect(Buffer.from(decodeInline(ref)).equals(Buffer.from(raw))).toBe(true);
  });

  test("text whose JSON escaping would outgrow base64 stays base64", () => {
    const raw = bytes('"'.repeat(300));
    expect("inline" in inlineBody(raw)).toBe(true);
  });

  test("a 50 KB text message fits one 64 KiB SQS request chunk once in JSON; base64 would not", () => {
    const line = `${"x".repeat(76)}\r\n`;
    const raw = bytes(line.repeat(Math.ceil(51_200 / line.length)));
    const json = JSON.stringify(inlineBody(raw));
    expect(Buffer.byteLength(json)).toBeLessThan(64 * 1024);
    expect(JSON.stringify({ inline: Buffer.from(raw).toString("base64") }).length).toBeGreaterThan(
      64 * 1024,
    );
  });
});

describe("queue message validation", () => {
  test("accepts a text body and a base64 body (messages queued before the text form)", () => {
    const message = {
      id: "m1",
      receivedAt: "2026-11-30T08:00:00.000Z",
      envelope: { mailFrom: "a@contoso.test", rcptTo: ["b@fabrikam.test"] },
      origin: {
        type: "smtp",
        receiveConnector: "Apps",
        clientIp: "127.0.0.1",
        clientHelo: "h",
        tls: false,
      },
      size: 5,
    };
    for (const body of [{ text: "hello" }, { inline: "aGVsbG8=" }]) {
      const parsed = parseSubmittedMessage(JSON.stringify({ ...message, body }));
      expect(parsed.ok && parsed.value.body).toEqual(body);
    }
  });
});
