// Send connector selection, table-driven from Exchange's documented send connector examples and routing rules.
import { describe, expect, test } from "vitest";
import { MB } from "#core/records/common.ts";
import {
  type SendConnector,
  type SendConnectorInput,
  SendConnectorSchema,
} from "#core/records/send-connector.ts";
import { domainSpecificity } from "#core/routing/address-space.ts";
import { nextHopFor, type RouteQuery, selectSendConnector } from "#core/routing/select.ts";
import { senderSpecificity } from "#core/routing/sender-space.ts";

const connector = (
  name: string,
  spaces: string | [string, number][],
  extra: Partial<SendConnectorInput> = {},
): SendConnector =>
  SendConnectorSchema.parse({
    kind: "SendConnector",
    name,
    addressSpaces:
      typeof spaces === "string"
        ? [{ domain: spaces, cost: 1 }]
        : spaces.map(([domain, cost]) => ({ domain, cost })),
    ...extra,
  });

const query = (recipientDomain: string, extra: Partial<RouteQuery> = {}): RouteQuery => ({
  recipientDomain,
  sender: "app@contoso.com",
  size: 10_000,
  ...extra,
});

const chosen = (connectors: SendConnector[], q: RouteQuery) => {
  const r = selectSendConnector(connectors, q);
  return r.ok ? r.connector.name : `none: ${r.reason}`;
};

// Exchange's New-SendConnector example: -Name "To Internet" -Usage Internet -AddressSpaces *  →  {smtp:*;1}
const toInternet = connector("To Internet", "*", { usage: "Internet" });
// Exchange's smart host example: New-SendConnector -Name "Smarthost To Internet" -Usage Internet -DNSRoutingEnabled $False -SmartHosts … -AddressSpaces *
const smarthostToInternet = connector("Smarthost To Internet", "*", {
  usage: "Internet",
  dnsRoutingEnabled: false,
  smartHosts: ["smarthost.contoso.com", "10.0.0.25:587"],
});

describe("address space patterns (Exchange: valid entries for the SMTP address space)", () => {
  test.each([
    // "*: All domains that don't have an explicit address space entry on another Send connector"
    ["*", "fabrikam.com", true],
    ["*", "a.b.c.example", true],
    // "Contoso.com: All recipients with e-mail addresses in the Contoso.com domain."
    ["contoso.com", "contoso.com", true],
    ["contoso.com", "CONTOSO.COM.", true],
    ["contoso.com", "a.contoso.com", false],
    ["contoso.com", "notcontoso.com", false],
    // "*.Contoso.com: All recipients … in the Contoso.com domain or any subdomain of Contoso.com."
    ["*.contoso.com", "contoso.com", true],
    ["*.contoso.com", "a.contoso.com", true],
    ["*.contoso.com", "x.a.contoso.com", true],
    ["*.contoso.com", "evilcontoso.com", false],
  ])("%j matches %j: %s", (pattern, domain, matches) => {
    expect(domainSpecificity(pattern, domain) !== undefined).toBe(matches);
  });

  test("a.contoso.com > *.a.contoso.com > *.contoso.com > *", () => {
    const rank = (p: string) => domainSpecificity(p, "a.contoso.com") ?? -1;
    expect(rank("a.contoso.com")).toBeGreaterThan(rank("*.a.contoso.com"));
    expect(rank("*.a.contoso.com")).toBeGreaterThan(rank("*.contoso.com"));
    expect(rank("*.contoso.com")).toBeGreaterThan(rank("*.com"));
    expect(rank("*.com")).toBeGreaterThan(rank("*"));
    expect(rank("*")).toBe(0);
  });
});

describe("sender patterns", () => {
  test.each([
    ["*", "a@contoso.com", true],
    ["*", "", true],
    ["contoso.com", "a@contoso.com", true],
    ["contoso.com", "a@sales.contoso.com", false],
    ["*.contoso.com", "a@sales.contoso.com", true],
    ["*.contoso.com", "a@contoso.com", true],
    ["a@contoso.com", "A@Contoso.com", true],
    ["a@contoso.com", "b@contoso.com", false],
    // The null sender has no domain: only "*" covers bounces.
    ["contoso.com", "", false],
    ["*.contoso.com", "", false],
  ])("%j matches sender %j: %s", (pattern, sender, matches) => {
    expect(senderSpecificity(pattern, sender) !== undefined).toBe(matches);
  });

  test("address > domain > *.domain > *", () => {
    const rank = (p: string) => senderSpecificity(p, "ann@sales.contoso.com") ?? -1;
    expect(rank("ann@sales.contoso.com")).toBeGreaterThan(rank("sales.contoso.com"));
    expect(rank("sales.contoso.com")).toBeGreaterThan(rank("*.sales.contoso.com"));
    expect(rank("*.sales.contoso.com")).toBeGreaterThan(rank("*.contoso.com"));
    expect(rank("*.contoso.com")).toBeGreaterThan(rank("*"));
  });
});

describe("selectSendConnector", () => {
  const partner = connector("Partner Contoso", "contoso.com", { usage: "Partner" });
  const subdomains = connector("Contoso subdomains", "*.contoso.com");
  const branch = connector("Branch A", "a.contoso.com");

  test.each<[string, SendConnector[], RouteQuery, string]>([
    // Exchange's "Create a Send connector to send mail to the internet": "Specify the FQDN of * (the wildcard character that effectively means 'anything')."
    [
      "Exchange's 'To Internet' takes any domain",
      [toInternet],
      query("fabrikam.com"),
      "To Internet",
    ],
    [
      "Exchange's 'Smarthost To Internet' takes any domain",
      [smarthostToInternet],
      query("gmail.com"),
      "Smarthost To Internet",
    ],
    // "if one connector has an address space of * and another … fabrikam.com, any messages
    // addressed to the fabrikam.com domain will be routed to the second connector"
    [
      "exact a.contoso.com beats *.contoso.com and *",
      [toInternet, subdomains, branch],
      query("a.contoso.com"),
      "Branch A",
    ],
    [
      "*.contoso.com beats * for a subdomain",
      [toInternet, subdomains, branch],
      query("b.contoso.com"),
      "Contoso subdomains",
    ],
    [
      "*.contoso.com covers contoso.com itself",
      [toInternet, subdomains],
      query("contoso.com"),
      "Contoso subdomains",
    ],
    [
      "exact contoso.com beats *.contoso.com for contoso.com",
      [toInternet, subdomains, partner],
      query("contoso.com"),
      "Partner Contoso",
    ],
    [
      "* takes what nothing else matches",
      [toInternet, subdomains, branch],
      query("fabrikam.com"),
      "To Internet",
    ],
    // "Send connectors in Exchange Server": "Cost … A lower value indicates a more preferred route for the domains you specified."
    [
      "lowest cost wins at equal specificity",
      [connector("Primary", [["*", 5]]), connector("Backup", [["*", 10]])],
      query("fabrikam.com"),
      "Primary",
    ],
    [
      "the cost of the matching address space counts, not the connector's other spaces",
      [
        connector("A", [
          ["*", 1],
          ["fabrikam.com", 20],
        ]),
        connector("B", [["fabrikam.com", 3]]),
      ],
      query("fabrikam.com"),
      "B",
    ],
    // "Alphanumerically, meaning that the connector name that comes first in alphanumeric order is used."
    [
      "name breaks a cost tie, case-insensitively",
      [connector("b outbound", "*"), connector("Zeta", "*"), connector("Alpha", "*")],
      query("fabrikam.com"),
      "Alpha",
    ],
    // "Discards any disabled connectors"
    [
      "a disabled connector is never chosen even when more specific",
      [toInternet, connector("Fabrikam", "fabrikam.com", { enabled: false })],
      query("fabrikam.com"),
      "To Internet",
    ],
  ])("%s", (_name, connectors, q, expected) => {
    expect(chosen(connectors, q)).toBe(expected);
    expect(chosen([...connectors].reverse(), q)).toBe(expected);
  });

  describe("size (Exchange: Internal has no limit, Internet 35MB)", () => {
    const internal = connector("Internal", [["*", 10]], {
      usage: "Internal",
      dnsRoutingEnabled: false,
      smartHosts: ["mail.internal.contoso.com"],
    });
    test.each([
      [35 * MB, "To Internet"],
      [35 * MB + 1, "Internal"],
      [200 * MB, "Internal"],
    ])("a message of %d bytes goes via %s", (size, expected) => {
      expect(chosen([toInternet, internal], query("fabrikam.com", { size }))).toBe(expected);
    });

    test("a size limit drops even the more specific connector (Exchange drops before matching)", () => {
      const small = connector("Fabrikam", "fabrikam.com", { maxMessageSize: 1 * MB });
      expect(chosen([toInternet, small], query("fabrikam.com", { size: 2 * MB }))).toBe(
        "To Internet",
      );
    });

    test("too large for every connector: the reason names the limit", () => {
      const r = selectSendConnector([toInternet], query("fabrikam.com", { size: 40 * MB }));
      expect(r).toEqual({
        ok: false,
        reason:
          'no send connector can take this message for "fabrikam.com" ("To Internet": message of 40 MB exceeds maxMessageSize 35 MB)',
      });
    });
  });

  describe("scoping to receive connectors (sourceListeners)", () => {
    const scoped = connector("Apps via smart host", "*", {
      dnsRoutingEnabled: false,
      smartHosts: ["smtp.mailroute.net"],
      sourceListeners: ["Client Apps"],
    });
    test.each([
      ["Client Apps", "Apps via smart host"],
      ["client apps", "Apps via smart host"],
      ["Default Frontend", "To Internet"],
      [undefined, "To Internet"],
    ])("mail received on %j goes via %s", (sourceConnector, expected) => {
      const q = query("fabrikam.com", sourceConnector === undefined ? {} : { sourceConnector });
      // Same specificity and cost; "Apps…" sorts first by name, so only scope keeps it out.
      expect(chosen([toInternet, scoped], q)).toBe(expected);
    });
  });

  describe("sender-based routing (certain mailboxes use send connector 1, others connector 2)", () => {
    const c1 = connector("Connector 1", "*", {
      dnsRoutingEnabled: false,
      smartHosts: ["smarthost1.example.net"],
      senderAddressSpaces: ["domain1.com"],
    });
    const c2 = connector("Connector 2", "*", {
      dnsRoutingEnabled: false,
      smartHosts: ["smarthost2.example.net"],
      senderAddressSpaces: ["domain2.com"],
    });
    const fallback = connector("Fallback", "*");
    const ceo = connector("CEO", [["*", 50]], { senderAddressSpaces: ["ceo@domain1.com"] });
    const all = [fallback, c2, c1, ceo];

    test.each([
      ["alice@domain1.com", "Connector 1"],
      ["bob@domain2.com", "Connector 2"],
      ["BOB@Domain2.COM", "Connector 2"],
      ["carol@other.org", "Fallback"],
      // A bounce has no sender domain; it takes a connector without sender rules.
      ["", "Fallback"],
      // An address rule beats a domain rule, even at a higher cost.
      ["ceo@domain1.com", "CEO"],
    ])("mail from %j goes via %s", (sender, expected) => {
      expect(chosen(all, query("fabrikam.com", { sender }))).toBe(expected);
    });

    test("a more specific recipient address space still wins over a sender rule", () => {
      const partner = connector("Partner", "fabrikam.com");
      expect(
        chosen([...all, partner], query("fabrikam.com", { sender: "alice@domain1.com" })),
      ).toBe("Partner");
    });

    test("a sender-restricted connector is not a fallback for other senders", () => {
      const r = selectSendConnector([c1], query("fabrikam.com", { sender: "x@other.org" }));
      expect(r.ok).toBe(false);
    });
  });

  test("no matching address space: the reason says so", () => {
    const r = selectSendConnector([connector("Contoso", "contoso.com")], query("Fabrikam.com"));
    expect(r).toEqual({
      ok: false,
      reason: 'no enabled send connector has an address space matching "fabrikam.com"',
    });
  });

  test("no connectors at all", () => {
    expect(selectSendConnector([], query("fabrikam.com"))).toEqual({
      ok: false,
      reason: "no send connector is configured",
    });
  });

  test("the result carries the matching address space", () => {
    const c = connector("A", [
      ["*", 1],
      ["*.fabrikam.com", 4],
    ]);
    const r = selectSendConnector([c], query("mail.fabrikam.com"));
    expect(r.ok && r.addressSpace).toEqual({ domain: "*.fabrikam.com", cost: 4 });
  });
});

describe("nextHopFor", () => {
  test("MX routing (RFC 5321 §5.1: look up the MX records of the recipient's domain): one queue per domain", () => {
    expect(nextHopFor(toInternet, "Fabrikam.com")).toEqual({
      nextHop: { type: "mx", domain: "fabrikam.com" },
      nextHopKey: "fabrikam.com",
    });
  });

  test("smart hosts: the queue is the smart host list, shared by every domain", () => {
    const a = nextHopFor(smarthostToInternet, "fabrikam.com");
    const b = nextHopFor(smarthostToInternet, "gmail.com");
    expect(a).toEqual({
      nextHop: { type: "smarthost", hosts: ["smarthost.contoso.com", "10.0.0.25:587"] },
      nextHopKey: "smarthost.contoso.com,10.0.0.25:587",
    });
    expect(b.nextHopKey).toBe(a.nextHopKey);
  });
});
