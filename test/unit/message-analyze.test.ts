// The header analyzer on hand-made header sets: Received variants, delays and skew, this relay's hop, and hostile input.
import { randomBytes } from "node:crypto";
import { expect, test } from "vitest";
import { MAX_HEADER_BYTES, MessageInputError, readHeaderSection } from "#cli/analyze/headers.ts";
import { parseReceived, protocolMeaning } from "#cli/analyze/received.ts";
import { duration } from "#cli/analyze/render.ts";
import { analyzeRoute, MAX_HOPS } from "#cli/analyze/route.ts";

const route = (text: string) => analyzeRoute(readHeaderSection(Buffer.from(text, "latin1")));

test.each([
  [
    "Postfix",
    "from mail.contoso.com (mail.contoso.com [203.0.113.5]) by mx.fabrikam.com (Postfix) with ESMTPS id 4AbC123 for <ann@fabrikam.com>; Mon, 30 Nov 2026 08:00:09 +0000 (UTC)",
    {
      from: "mail.contoso.com",
      fromIp: "203.0.113.5",
      by: "mx.fabrikam.com",
      with: "ESMTPS",
      id: "4AbC123",
      for: "<ann@fabrikam.com>",
    },
  ],
  [
    "Exchange",
    "from EX01.contoso.com (10.0.0.1) by EX02.contoso.com (10.0.0.2) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.1.2507.39; Mon, 30 Nov 2026 08:00:07 +0000",
    {
      from: "EX01.contoso.com",
      fromIp: "10.0.0.1",
      by: "EX02.contoso.com",
      with: "Microsoft SMTP Server",
      id: "15.1.2507.39",
    },
  ],
  [
    "this relay, IPv6 client",
    'from app01 ([IPv6:2001:db8::5]) by relay.contoso.com (connector-relay; connector="Client; Frontend") with ESMTPSA id 20261130T080005Z-0123456789ab (version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384); Mon, 30 Nov 2026 08:00:05 +0000',
    { from: "app01", fromIp: "2001:db8::5", by: "relay.contoso.com", with: "ESMTPSA" },
  ],
  [
    "no from clause",
    "by mx.google.com with SMTP id x1so; Mon, 30 Nov 2026 08:00:05 -0800",
    { by: "mx.google.com", with: "SMTP" },
  ],
  ["qmail's comment only", "(qmail 1234 invoked by uid 0); 30 Nov 2026 08:00:05 -0000", {}],
])("Received as %s writes it", (_, value, clauses) => {
  const parsed = parseReceived(value);
  expect(parsed).toMatchObject(clauses);
  expect(parsed.date).toBeInstanceOf(Date);
});

test("an unclosed comment and a missing date give a partial result", () => {
  const parsed = parseReceived("from a.example (a.example [192.0.2.1] by b.example with ESMTP");
  expect(parsed.from).toBe("a.example");
  expect(parsed.date).toBeUndefined();
});

test.each([
  ["ESMTP", undefined, { tls: false, auth: false }],
  ["ESMTPS", undefined, { tls: true, auth: false }],
  ["ESMTPA", undefined, { tls: false, auth: true }],
  ["ESMTPSA", undefined, { tls: true, auth: true }],
  ["LMTPS", undefined, { tls: true, auth: false }],
  ["UTF8SMTPSA", undefined, { tls: true, auth: true }],
  ["Microsoft SMTP Server", "version=TLS1_2, cipher=x", { tls: true }],
  ["Microsoft SMTP Server", undefined, { tls: false }],
  ["HTTPS", undefined, { tls: true }],
])("with %s", (w, info, meaning) => {
  expect(protocolMeaning(w, info)).toMatchObject(meaning);
});

const HEADERS = [
  "Received: from mail.relay.example (mail.relay.example [198.51.100.7])",
  "\tby mx.fabrikam.com (Postfix) with ESMTPS id 4AbC123",
  "\tfor <ann@fabrikam.com>; Mon, 30 Nov 2026 08:00:09 +0000 (UTC)",
  "Received: from app01 ([10.0.0.5])",
  '\tby relay.contoso.com (connector-relay; connector="Client Frontend")',
  "\twith ESMTPSA id 20261130T080005Z-0123456789ab;",
  "\tMon, 30 Nov 2026 08:00:05 +0000",
  "Date: Mon, 30 Nov 2026 08:00:01 +0000",
  "Subject: Quarterly",
  " report",
  "",
  "Body",
].join("\r\n");

test("hops in order from the bottom field, folded fields unfolded, delays from the Date field on", () => {
  const r = route(HEADERS);
  expect(r.subject).toBe("Quarterly report");
  expect(r.hops.map((h) => [h.hop, h.by, h.delaySeconds])).toEqual([
    [1, "relay.contoso.com", 4],
    [2, "mx.fabrikam.com", 4],
  ]);
  expect(r.hops[0]?.relay).toEqual({ receiveConnector: "Client Frontend" });
  expect(r.hops[0]?.protocol).toMatchObject({ tls: true, auth: true });
  expect(r.totalSeconds).toBe(8);
  expect(r.notes).toEqual([]);
});

test("hops out of order show as clock skew, not as a crash", () => {
  const swapped = HEADERS.replace("08:00:09 +0000 (UTC)", "07:59:00 +0000 (UTC)");
  const r = route(swapped);
  expect(r.hops[1]?.delaySeconds).toBe(-65);
  expect(r.hops[1]?.problems.join()).toMatch(/clock skew: 65 s earlier than the previous hop/);
});

test("missing dates and no Date field: the hop is listed without a delay", () => {
  const r = route(
    "Received: from a by b with ESMTP id 1\r\nReceived: from c by a with SMTP; Mon, 30 Nov 2026 08:00:05 +0000\r\n\r\n",
  );
  expect(r.hops.map((h) => h.delaySeconds)).toEqual([undefined, undefined]);
  expect(r.hops[1]?.problems).toEqual(["no date"]);
  expect(r.notes.join()).toMatch(/no hop names connector-relay/);
});

test("no Received field at all is a partial result with the reason", () => {
  const r = route("From: a@b.example\r\nSubject: x\r\n\r\nbody");
  expect(r.hops).toEqual([]);
  expect(r.notes.join()).toMatch(/no Received fields/);
});

test("a mail loop lists at most MAX_HOPS hops", () => {
  const field = "Received: from a by b with SMTP; Mon, 30 Nov 2026 08:00:05 +0000\r\n";
  const r = route(`${field.repeat(MAX_HOPS + 50)}\r\n`);
  expect(r.hops).toHaveLength(MAX_HOPS);
  expect(r.notes.join()).toMatch(/only the newest 100/);
});

test("hostile input: empty, binary and huge header sections give a clear error or a partial result", () => {
  expect(() => readHeaderSection(Buffer.alloc(0))).toThrow(MessageInputError);
  expect(() => readHeaderSection(Buffer.from("\r\n\r\nonly a body"))).toThrow(
    /no header fields found/,
  );
  for (let i = 0; i < 200; i++) {
    const bytes = randomBytes(1 + ((i * 37) % 3000));
    try {
      analyzeRoute(readHeaderSection(bytes));
    } catch (error) {
      expect(error).toBeInstanceOf(MessageInputError);
    }
  }
  const huge = Buffer.from(
    `Received: from a by b with SMTP; Mon, 30 Nov 2026 08:00:05 +0000\r\nX-Big: ${"x".repeat(MAX_HEADER_BYTES)}`,
  );
  const r = analyzeRoute(readHeaderSection(huge));
  expect(r.hops).toHaveLength(1);
  expect(r.notes.join()).toMatch(/over 1 MB/);
});

test.each([
  [5, "5 s"],
  [-2, "-2 s"],
  [125, "2 min 5 s"],
  [3840, "1 h 4 min"],
  [183_600, "2 d 3 h"],
])("duration %i", (s, text) => {
  expect(duration(s)).toBe(text);
});
