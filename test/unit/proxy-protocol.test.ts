// PROXY protocol v1 and v2 parsing: the examples of the HAProxy spec, what AWS NLB sends, and malformed input.
import { describe, expect, test } from "vitest";
import { encodeProxyV2, PROXY_V2_SIGNATURE, parseProxyHeader } from "#listener/proxy-protocol.ts";

const text = (s: string) => Buffer.from(s, "latin1");

describe("PROXY v1", () => {
  test.each([
    [
      "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
      { ip: "192.168.0.1", port: 56324 },
      { ip: "192.168.0.11", port: 443 },
    ],
    [
      "PROXY TCP6 2001:db8::1 2001:db8::11 65535 25\r\n",
      { ip: "2001:db8::1", port: 65535 },
      { ip: "2001:db8::11", port: 25 },
    ],
    // A dual-stack balancer may write an IPv4 client as IPv4-mapped IPv6: ranges are written as IPv4.
    [
      "PROXY TCP6 ::ffff:203.0.113.7 2001:db8::11 1000 25\r\n",
      { ip: "203.0.113.7", port: 1000 },
      { ip: "2001:db8::11", port: 25 },
    ],
  ])("%j", (line, source, destination) => {
    const r = parseProxyHeader(text(`${line}EHLO x\r\n`));
    expect(r).toEqual({
      status: "parsed",
      length: line.length,
      header: { version: 1, command: "proxy", source, destination },
    });
  });

  test("UNKNOWN means the connection's own endpoints", () => {
    const r = parseProxyHeader(text("PROXY UNKNOWN\r\n"));
    expect(r).toEqual({ status: "parsed", length: 15, header: { version: 1, command: "local" } });
  });

  test("a line without its CRLF yet is incomplete", () => {
    expect(parseProxyHeader(text("PROXY TCP4 192.168.0.1 1"))).toEqual({ status: "incomplete" });
    expect(parseProxyHeader(text("PRO"))).toEqual({ status: "incomplete" });
  });

  test.each([
    ["PROXY TCP4 192.168.0.1 192.168.0.11 56324\r\n", "v1 header needs 6 fields"],
    ["PROXY TCP4 2001:db8::1 192.168.0.11 1 2\r\n", "v1 address does not match its protocol"],
    ["PROXY TCP4 192.168.0.1 192.168.0.11 65536 25\r\n", "v1 bad port"],
    ["PROXY TCP4 192.168.0.1 192.168.0.11 025 25\r\n", "v1 bad port"],
    ["PROXY UDP4 192.168.0.1 192.168.0.11 1 25\r\n", 'v1 unknown protocol "UDP4"'],
    ["PROXY TCP4 010.0.0.1 192.168.0.11 1 25\r\n", "v1 address does not match its protocol"],
    ["EHLO client.example\r\n", "no PROXY header"],
  ])("%j is refused", (line, reason) => {
    expect(parseProxyHeader(text(line))).toEqual({ status: "invalid", reason });
  });

  test("a line past 107 bytes without CRLF is refused", () => {
    expect(parseProxyHeader(text(`PROXY TCP4 ${"1".repeat(120)}`))).toEqual({
      status: "invalid",
      reason: "v1 line too long",
    });
  });
});

describe("PROXY v2", () => {
  test("TCP over IPv4 with an AWS NLB TLV (type 0xEA, the VPC endpoint id)", () => {
    const tlv = Buffer.concat([Buffer.from([0xea, 0x00, 0x05, 0x01]), text("vpce")]);
    const header = encodeProxyV2(
      {
        command: "proxy",
        source: { ip: "203.0.113.7", port: 40000 },
        destination: { ip: "10.0.0.4", port: 25 },
      },
      tlv,
    );
    const r = parseProxyHeader(Buffer.concat([header, text("EHLO x\r\n")]));
    expect(r).toEqual({
      status: "parsed",
      length: 16 + 12 + tlv.length,
      header: {
        version: 2,
        command: "proxy",
        source: { ip: "203.0.113.7", port: 40000 },
        destination: { ip: "10.0.0.4", port: 25 },
      },
    });
  });

  test("TCP over IPv6, compressed to canonical text", () => {
    const header = encodeProxyV2({
      command: "proxy",
      source: { ip: "2001:0db8:0000:0000:0000:0000:0000:0007", port: 1 },
      destination: { ip: "2001:db8::4", port: 587 },
    });
    expect(parseProxyHeader(header)).toMatchObject({
      status: "parsed",
      length: 52,
      header: { source: { ip: "2001:db8::7", port: 1 }, destination: { port: 587 } },
    });
  });

  test("LOCAL (the balancer's health check) carries no client", () => {
    expect(parseProxyHeader(encodeProxyV2({ command: "local" }))).toEqual({
      status: "parsed",
      length: 16,
      header: { version: 2, command: "local" },
    });
  });

  test("PROXY over an unsupported family (UNSPEC) falls back to the real endpoints", () => {
    const h = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x00, 0x00, 0x00])]);
    expect(parseProxyHeader(h)).toEqual({
      status: "parsed",
      length: 16,
      header: { version: 2, command: "local" },
    });
  });

  test("every truncation of a header is incomplete, never a wrong parse", () => {
    const header = encodeProxyV2({
      command: "proxy",
      source: { ip: "2001:db8::7", port: 1 },
      destination: { ip: "2001:db8::4", port: 25 },
    });
    for (let n = 1; n < header.length; n++)
      expect(parseProxyHeader(header.subarray(0, n))).toEqual({ status: "incomplete" });
  });

  test.each([
    [0x11, 0x11, "v2 unsupported version"],
    [0x22, 0x11, "v2 unknown command"],
  ])("version/command byte %i is refused", (verCmd, fam, reason) => {
    const h = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([verCmd, fam, 0x00, 0x00])]);
    expect(parseProxyHeader(h)).toEqual({ status: "invalid", reason });
  });

  test("an address block shorter than its family needs is refused", () => {
    const h = Buffer.concat([
      PROXY_V2_SIGNATURE,
      Buffer.from([0x21, 0x11, 0x00, 0x04, 1, 2, 3, 4]),
    ]);
    expect(parseProxyHeader(h)).toEqual({
      status: "invalid",
      reason: "v2 TCP4 address block too short",
    });
  });

  test("a declared length beyond what a balancer sends is refused without waiting for it", () => {
    const h = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
    expect(parseProxyHeader(h)).toEqual({ status: "invalid", reason: "v2 header too long" });
  });
});
