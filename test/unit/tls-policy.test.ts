// MTA-STS parsing and MX matching (RFC 8461 §3.1, §3.2, §4.1), DANE record usability (RFC 7672 §3.1) and the per-host decision.
import { describe, expect, test } from "vitest";
import { SendConnectorSchema } from "#core/records/send-connector.ts";
import { usableTlsa } from "#core/tls-policy/dane.ts";
import { decideTlsPolicy } from "#core/tls-policy/decide.ts";
import { explainTlsPolicy } from "#core/tls-policy/explain.ts";
import {
  type CachedMtaStsPolicy,
  mxMatchesPattern,
  parseMtaStsPolicy,
  parseMtaStsRecord,
} from "#core/tls-policy/mta-sts.ts";

describe("_mta-sts TXT record (RFC 8461 §3.1)", () => {
  test.each([
    [["v=STSv1; id=20160831085700Z;"], { ok: true, id: "20160831085700Z" }],
    [["v=STSv1;id=abc"], { ok: true, id: "abc" }],
    [["v=spf1 -all", "v=STSv1; id=x1"], { ok: true, id: "x1" }],
    [["v=spf1 -all"], { ok: false }],
    [["v=STSv1; id=a", "v=STSv1; id=b"], { ok: false }],
    [["v=STSv1; id=not-alnum"], { ok: false }],
    [[`v=STSv1; id=${"a".repeat(33)}`], { ok: false }],
  ])("%j → %j", (txts, expected) => {
    expect(parseMtaStsRecord(txts)).toMatchObject(expected);
  });
});

describe("policy file (RFC 8461 §3.2)", () => {
  test("the RFC's example parses, CRLF lines, mx lower-cased", () => {
    const text =
      "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: BACKUPMX.example.com\r\nmax_age: 604800\r\n";
    expect(parseMtaStsPolicy(text)).toEqual({
      ok: true,
      policy: {
        mode: "enforce",
        mx: ["mail.example.com", "*.example.net", "backupmx.example.com"],
        maxAgeSeconds: 604800,
      },
    });
  });

  test.each([
    ["version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1", "version"],
    ["version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1", "mode"],
    ["version: STSv1\nmode: enforce\nmx: a.b", "max_age"],
    ["version: STSv1\nmode: enforce\nmax_age: 86400", "no mx"],
    ["version: STSv1\nmode: enforce\nmx: a.*.b\nmax_age: 1", "mx"],
    ["<html>hello</html>", "key: value"],
  ])("%j is refused for its %s", (text, what) => {
    const r = parseMtaStsPolicy(text);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.reason).toContain(what);
  });

  test("mode none needs no mx; max_age above a year is clamped; unknown keys are ignored", () => {
    expect(
      parseMtaStsPolicy("version: STSv1\nmode: none\nmax_age: 9999999999\nfuture: yes\n"),
    ).toEqual({ ok: true, policy: { mode: "none", mx: [], maxAgeSeconds: 31_557_600 } });
  });
});

describe("MX patterns (RFC 8461 §4.1)", () => {
  test.each([
    ["mail.example.com", "mail.example.com", true],
    ["MAIL.example.com.", "mail.example.com", true],
    ["mx1.example.com", "*.example.com", true],
    ["example.com", "*.example.com", false],
    ["a.b.example.com", "*.example.com", false],
    ["mx1.example.org", "*.example.com", false],
    ["mx1.example.com", "mx2.example.com", false],
  ])("%s against %s → %s", (host, pattern, expected) => {
    expect(mxMatchesPattern(host, pattern)).toBe(expected);
  });
});

test("usable TLSA (RFC 7672 §3.1): DANE-TA and DANE-EE only; PKIX usages and unknown types are not", () => {
  const r = (usage: number, selector: number, matchingType: number) => ({
    usage,
    selector,
    matchingType,
    data: "ab",
  });
  expect(
    usableTlsa([
      r(3, 1, 1),
      r(2, 1, 1),
      r(3, 0, 2),
      r(1, 1, 1),
      r(0, 0, 1),
      r(3, 2, 1),
      r(3, 1, 3),
    ]),
  ).toEqual([r(3, 1, 1), r(2, 1, 1), r(3, 0, 2)]);
});

describe("per-host decision", () => {
  const policy: CachedMtaStsPolicy = {
    domain: "contoso.com",
    id: "p1",
    mode: "enforce",
    mx: ["*.contoso.com"],
    maxAgeSeconds: 86_400,
    fetchedAt: "2026-11-24T10:00:00.000Z",
    expiresAt: "2026-11-25T10:00:00.000Z",
  };
  const targets = [
    { host: "mx1.contoso.com", address: "192.0.2.1", port: 25 },
    { host: "mx.backup.net", address: "192.0.2.2", port: 25 },
  ];
  const base = { mode: "opportunistic", validate: "none" } as const;

  test("enforce keeps listed hosts with TLS for their name; DANE wins where TLSA is authenticated", () => {
    const tlsa = new Map([
      ["mx1.contoso.com", { kind: "none" as const }],
      [
        "mx.backup.net",
        {
          kind: "authenticated" as const,
          records: [{ usage: 3, selector: 1, matchingType: 1, data: "aa" }],
        },
      ],
    ]);
    const d = decideTlsPolicy({
      targets,
      base,
      tlsa,
      mtaSts: { kind: "policy", policy, source: "cache" },
      audit: () => {},
    });
    expect(d.ok && d.targets.map((t) => [t.host, t.tls.mode, t.tls.validate])).toEqual([
      ["mx1.contoso.com", "required", "domain"],
      ["mx.backup.net", "required", "dane"],
    ]);
  });

  test("enforce without any listed host: transient 4.7.5 naming the check", () => {
    const d = decideTlsPolicy({
      targets: [targets[1]!],
      base,
      mtaSts: { kind: "policy", policy, source: "fetched" },
      audit: () => {},
    });
    expect(d).toMatchObject({
      ok: false,
      reply: {
        code: 451,
        enhanced: "4.7.5",
        text: "MTA-STS enforce: mx.backup.net not in policy id p1 of contoso.com (mx: *.contoso.com)",
      },
    });
  });

  test("a failed TLSA lookup skips that host (fail closed); no policy leaves the connector's TLS", () => {
    const tlsa = new Map([["mx.backup.net", { kind: "failed" as const, reason: "SERVFAIL" }]]);
    const d = decideTlsPolicy({
      targets,
      base,
      tlsa,
      mtaSts: { kind: "none", why: "no _mta-sts.contoso.com TXT record" },
      audit: () => {},
    });
    expect(d.ok && d.targets.map((t) => t.host)).toEqual(["mx1.contoso.com"]);
    expect(d.ok && d.targets[0]?.tls).toEqual(base);
    expect(d.ok && d.notes).toEqual([
      "DANE: TLSA lookup for _25._tcp.mx.backup.net failed: SERVFAIL",
    ]);
  });
});

test("route explain's words: MX connectors list DANE, MTA-STS, then their own TLS; smart hosts only their own", () => {
  const c = SendConnectorSchema.parse({
    kind: "SendConnector",
    name: "X",
    addressSpaces: [{ domain: "*" }],
  });
  expect(explainTlsPolicy(c)).toBe(
    "MX: the domain's MTA-STS policy when one is published, else opportunistic TLS (STARTTLS when offered, certificate not checked) (DANE off: dnssecValidatingResolver is false)",
  );
  expect(explainTlsPolicy({ ...c, dnssecValidatingResolver: true })).toMatch(
    /^MX: DANE when the MX host's TLSA records are DNSSEC-authenticated, else/,
  );
  expect(
    explainTlsPolicy({ ...c, dnsRoutingEnabled: false, smartHosts: ["relay.example:587"] }),
  ).toMatch(/^smart hosts: the connector's own TLS/);
});
