// Record schemas: what an admin may write, and the errors that name record, field and fix.
import { describe, expect, test } from "vitest";
import { formatProblem, parseRecord } from "#core/records/index.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import { type SendConnector, sendConnectorMaxSize } from "#core/records/send-connector.ts";

const send = (extra: Record<string, unknown> = {}) => ({
  kind: "SendConnector",
  name: "To Internet",
  addressSpaces: [{ domain: "*", cost: 1 }],
  ...extra,
});

describe("send connector schema", () => {
  test("New-SendConnector -Name 'To Internet' -Usage Internet -AddressSpaces * gives MX routing, cost 1, 35 MB", () => {
    const r = parseRecord(send({ usage: "Internet" }));
    expect(r.ok).toBe(true);
    const c = (r as { record: SendConnector }).record;
    expect(c.dnsRoutingEnabled).toBe(true);
    expect(c.addressSpaces).toEqual([{ domain: "*", cost: 1 }]);
    expect(sendConnectorMaxSize(c)).toBe(35 * 1024 * 1024);
    expect(c.port).toBe(25);
  });

  test("Internal usage has no size limit by default", () => {
    const r = parseRecord(send({ usage: "Internal" }));
    expect(r.ok && sendConnectorMaxSize(r.record as SendConnector)).toBeUndefined();
  });

  test.each([
    ["*contoso.com"],
    ["contoso..com"],
    ["*.*.contoso.com"],
    ["contoso.com."],
    ["10.0.0.1"],
    [""],
  ])("address space %j is rejected with the fix", (domain) => {
    const r = parseRecord(send({ addressSpaces: [{ domain, cost: 1 }] }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems[0]?.record).toBe('SendConnector "To Internet"');
      expect(r.problems[0]?.field).toBe("addressSpaces[0].domain");
      expect(formatProblem(r.problems[0]!)).toMatch(/use "\*", "contoso.com" or "\*.contoso.com"/);
    }
  });

  test.each([[0], [101], [1.5]])("cost %j outside 1-100 is rejected", (cost) => {
    const r = parseRecord(send({ addressSpaces: [{ domain: "*", cost }] }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.field).toBe("addressSpaces[0].cost");
  });

  test("a misspelt field is named", () => {
    const r = parseRecord(send({ smartHost: ["a.example"] }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.message).toMatch(/unknown field.*"smartHost"/);
  });
});

describe("cross-field and cross-record rules", () => {
  const rules = (raw: Record<string, unknown>) => buildRecordSet([raw]).problems.map(formatProblem);

  test("smart hosts require dnsRoutingEnabled false", () => {
    expect(rules(send({ smartHosts: ["smtp.contoso.com"] }))).toEqual([
      expect.stringMatching(
        /SendConnector "To Internet": smartHosts: smart hosts require dnsRoutingEnabled false/,
      ),
    ]);
    expect(rules(send({ smartHosts: ["smtp.contoso.com"], dnsRoutingEnabled: false }))).toEqual([]);
  });

  test("TlsAuthLevel only with requireTls", () => {
    expect(rules(send({ tlsAuthLevel: "CertificateValidation" }))).toEqual([
      expect.stringMatching(/tlsAuthLevel: .*requireTls/),
    ]);
    expect(rules(send({ tlsAuthLevel: "CertificateValidation", requireTls: true }))).toEqual([]);
  });

  test("overlapping RemoteIPRanges on one binding are allowed only when one contains the other", () => {
    const rc = (name: string, remoteIpRanges: string[], bindings = ["0.0.0.0:25"]) => ({
      kind: "ReceiveConnector",
      name,
      bindings,
      remoteIpRanges,
    });
    const nested = buildRecordSet([
      rc("Default", ["0.0.0.0/0"]),
      rc("Relay", ["192.168.1.0/24"]),
      rc("Printer", ["192.168.1.75"]),
    ]);
    expect(nested.problems).toEqual([]);
    expect(nested.receiveConnectors.map((c) => c.name)).toEqual(["Default", "Relay", "Printer"]);

    const partial = buildRecordSet([
      rc("A", ["10.0.0.0-10.0.0.20"]),
      rc("B", ["10.0.0.10-10.0.0.30"]),
    ]);
    expect(partial.problems.map(formatProblem)).toEqual([
      expect.stringMatching(
        /ReceiveConnector "B": remoteIpRanges: range 10.0.0.10-10.0.0.30 partly overlaps/,
      ),
    ]);
    expect(partial.receiveConnectors.map((c) => c.name)).toEqual(["A"]);

    const otherPort = buildRecordSet([
      rc("A", ["10.0.0.0-10.0.0.20"]),
      rc("B", ["10.0.0.10-10.0.0.30"], ["0.0.0.0:587"]),
    ]);
    expect(otherPort.problems).toEqual([]);
  });

  test("a bad record is skipped and the others still load", () => {
    const set = buildRecordSet([
      send(),
      { kind: "AcceptedDomain", domain: "*" },
      { kind: "AcceptedDomain", domain: "contoso.com" },
      { kind: "Nonsense" },
    ]);
    expect(set.sendConnectors).toHaveLength(1);
    expect(set.acceptedDomains.map((d) => d.domain)).toEqual(["contoso.com"]);
    expect(set.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/AcceptedDomain "\*": domain: .*open relay/),
      expect.stringMatching(
        /^Nonsense: kind: unknown record kind "Nonsense"; use one of SendConnector/,
      ),
    ]);
  });
});

describe("duplicates and binding families", () => {
  test("a second record with the same id (any case) is reported and left out", () => {
    const set = buildRecordSet([
      { kind: "AcceptedDomain", domain: "contoso.com" },
      { kind: "AcceptedDomain", domain: "CONTOSO.com", domainType: "InternalRelay" },
      {
        kind: "SmtpUser",
        name: "app",
        passwordHash: "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ=$aGFzaGhhc2g=",
      },
      {
        kind: "SmtpUser",
        name: "App",
        passwordHash: "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ=$aGFzaGhhc2g=",
      },
    ]);
    expect(set.acceptedDomains).toEqual([expect.objectContaining({ domainType: "Authoritative" })]);
    expect(set.smtpUsers.map((u) => u.name)).toEqual(["app"]);
    expect(set.problems.map(formatProblem)).toEqual([
      expect.stringMatching(
        /AcceptedDomain "contoso.com": domain: another AcceptedDomain has the same domain/,
      ),
      expect.stringMatching(/SmtpUser "App": name: another SmtpUser/),
    ]);
  });

  test("0.0.0.0:25 and [::]:25 are different bindings, so IPv4 and IPv6 ranges on them never clash", () => {
    const rc = (name: string, bindings: string[], remoteIpRanges: string[]) => ({
      kind: "ReceiveConnector",
      name,
      bindings,
      remoteIpRanges,
      implicitTls: name === "B",
    });
    expect(
      buildRecordSet([rc("A", ["0.0.0.0:25"], ["0.0.0.0/0"]), rc("B", ["[::]:25"], ["::/0"])])
        .problems,
    ).toEqual([]);
    expect(
      buildRecordSet([
        rc("A", ["0.0.0.0:25"], ["0.0.0.0/0"]),
        rc("B", ["10.0.0.1:25"], ["0.0.0.0/0"]),
      ]).problems.map(formatProblem),
    ).toEqual([
      expect.stringMatching(/differs in implicitTls/),
      expect.stringMatching(/range 0.0.0.0\/0 is also on "A"/),
    ]);
  });
});
