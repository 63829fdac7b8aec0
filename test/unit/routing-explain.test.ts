// explainRoute: the verdict on every send connector, in words an Exchange admin can act on.
import { describe, expect, test } from "vitest";
import { MB } from "#core/records/common.ts";
import { type SendConnectorInput, SendConnectorSchema } from "#core/records/send-connector.ts";
import { explainRoute, type RouteQuery, selectSendConnector } from "#core/routing/select.ts";

const connector = (
  name: string,
  domain: string,
  cost = 1,
  extra: Partial<SendConnectorInput> = {},
) =>
  SendConnectorSchema.parse({
    kind: "SendConnector",
    name,
    addressSpaces: [{ domain, cost }],
    ...extra,
  });

const q: RouteQuery = {
  recipientDomain: "contoso.com",
  sender: "app@domain1.com",
  size: 40 * MB,
  sourceConnector: "Default Frontend",
};

const connectors = [
  connector("Contoso", "contoso.com", 5, { usage: "Internal" }),
  connector("A", "contoso.com", 1, { usage: "Internal" }),
  connector("B", "contoso.com", 1, { usage: "Internal" }),
  connector("Wildcard", "*", 1, { usage: "Internal" }),
  connector("Subdomains", "*.contoso.com", 1, { usage: "Internal" }),
  connector("Domain1 only", "*", 1, { usage: "Internal", senderAddressSpaces: ["domain1.com"] }),
  connector("Off", "contoso.com", 1, { enabled: false }),
  connector("To Internet", "contoso.com", 1, { usage: "Internet" }),
  connector("Apps only", "contoso.com", 1, { usage: "Internal", sourceListeners: ["Client Apps"] }),
  connector("Domain2 only", "contoso.com", 1, {
    usage: "Internal",
    senderAddressSpaces: ["domain2.com", "*.domain2.com"],
  }),
  connector("Fabrikam", "fabrikam.com", 1, { usage: "Internal" }),
];

describe("explainRoute", () => {
  const { result, candidates } = explainRoute(connectors, q);
  const verdict = (name: string) => candidates.find((c) => c.connector === name);

  test("selects the same connector as selectSendConnector", () => {
    expect(result.ok && result.connector.name).toBe("A");
    const direct = selectSendConnector(connectors, q);
    expect(direct.ok && direct.connector.name).toBe("A");
  });

  test("lists every connector once, in the given order", () => {
    expect(candidates.map((c) => c.connector)).toEqual(connectors.map((c) => c.name));
  });

  test.each([
    ["A", "selected", 'address space "contoso.com" cost 1'],
    ["B", "lost", 'name sorts after "A"'],
    ["Contoso", "lost", "higher cost 5 than 1"],
    ["Wildcard", "lost", 'less specific address space "*" than "contoso.com"'],
    ["Subdomains", "lost", 'less specific address space "*.contoso.com" than "contoso.com"'],
    ["Domain1 only", "lost", 'less specific address space "*" than "contoso.com"'],
    ["Off", "ineligible", "disabled"],
    ["To Internet", "ineligible", "message of 40 MB exceeds maxMessageSize 35 MB"],
    [
      "Apps only",
      "ineligible",
      'scoped to receive connectors "Client Apps" (message came in on "Default Frontend")',
    ],
    [
      "Domain2 only",
      "ineligible",
      'sender "app@domain1.com" not in senderAddressSpaces "domain2.com", "*.domain2.com"',
    ],
    ["Fabrikam", "ineligible", 'no address space matches "contoso.com"'],
  ])("%s: %s (%s)", (name, v, reason) => {
    expect(verdict(name)).toMatchObject({ verdict: v, reason });
  });

  test("candidates carry their matching address space, ineligible ones included", () => {
    expect(verdict("Off")?.addressSpace).toEqual({ domain: "contoso.com", cost: 1 });
    expect(verdict("Fabrikam")?.addressSpace).toBeUndefined();
  });

  test("a connector without sender rules loses to one whose sender rule matched", () => {
    const pair = [
      connector("Anyone", "*", 1),
      connector("Domain1", "*", 1, { senderAddressSpaces: ["domain1.com"] }),
    ];
    const r = explainRoute(pair, { ...q, recipientDomain: "fabrikam.com", size: 1000 });
    expect(r.candidates).toEqual([
      {
        connector: "Anyone",
        verdict: "lost",
        reason: 'no senderAddressSpaces, and "Domain1" matches the sender by "domain1.com"',
        addressSpace: { domain: "*", cost: 1 },
      },
      {
        connector: "Domain1",
        verdict: "selected",
        reason: 'address space "*" cost 1, sender matches "domain1.com"',
        addressSpace: { domain: "*", cost: 1 },
      },
    ]);
  });

  test("a less specific sender rule loses to a closer one", () => {
    const pair = [
      connector("Domain", "*", 1, { senderAddressSpaces: ["domain1.com"] }),
      connector("Person", "*", 1, { senderAddressSpaces: ["app@domain1.com"] }),
    ];
    const r = explainRoute(pair, { ...q, size: 1000 });
    expect(r.candidates[0]?.reason).toBe(
      'less specific sender match "domain1.com" than "app@domain1.com"',
    );
  });

  test("a message the relay made itself (no receive connector) is out of scope of scoped connectors", () => {
    const { sourceConnector: _, ...dsn } = q;
    const r = explainRoute([connector("Apps", "*", 1, { sourceListeners: ["Client Apps"] })], {
      ...dsn,
      size: 1000,
    });
    expect(r.candidates[0]?.reason).toBe(
      'scoped to receive connectors "Client Apps" (message was made by the relay)',
    );
    expect(r.result).toEqual({
      ok: false,
      reason:
        'no send connector can take this message for "contoso.com" ("Apps": scoped to receive connectors "Client Apps" (message was made by the relay))',
    });
  });

  test("a null sender is named as such when a sender rule excludes it", () => {
    const r = explainRoute([connector("D1", "*", 1, { senderAddressSpaces: ["domain1.com"] })], {
      ...q,
      sender: "",
      size: 1,
    });
    expect(r.candidates[0]?.reason).toBe(
      'sender <> (null sender) not in senderAddressSpaces "domain1.com"',
    );
  });

  test("sizes that are not whole megabytes are shown exactly", () => {
    const r = explainRoute([connector("Small", "*", 1, { maxMessageSize: 1_000_000 })], {
      ...q,
      size: 35 * MB + 1,
    });
    expect(r.candidates[0]?.reason).toBe(
      "message of 35.00 MB (36700161 bytes) exceeds maxMessageSize 1000000 bytes",
    );
  });
});
