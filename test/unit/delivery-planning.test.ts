// Pure delivery planning: MX order, next-hop targets from DNS answers, TLS policy per connector, job ids and queue message validation.
import { describe, expect, it } from "vitest";
import { dnsErrorKind } from "#adapters/dns/resolver.ts";
import { DnsError } from "#core/errors.ts";
import type { DnsResolver, MxRecord } from "#core/ports.ts";
import { type SendConnectorInput, SendConnectorSchema } from "#core/records/send-connector.ts";
import { courierTls } from "#core/usecases/attempt.ts";
import { deliveryJobId, planRoutes } from "#core/usecases/plan.ts";
import { parseDeliveryJob } from "#core/usecases/queue-messages.ts";
import { delayedStatus } from "#core/usecases/settle.ts";
import { orderMx, resolveTargets } from "#core/usecases/targets.ts";

const connector = (fields: Partial<SendConnectorInput> = {}) =>
  SendConnectorSchema.parse({
    kind: "SendConnector",
    name: "To Internet",
    addressSpaces: [{ domain: "*", cost: 1 }],
    ...fields,
  });

type Answer = MxRecord[] | string[] | DnsError;

/** A resolver answering from a table; a missing name is NXDOMAIN. */
function fakeDns(mx: Record<string, Answer>, a: Record<string, Answer>): DnsResolver {
  const answer = <T>(table: Record<string, Answer>, name: string): Promise<T> => {
    const v = table[name] ?? new DnsError("notFound", `${name}: ENOTFOUND`);
    return v instanceof DnsError ? Promise.reject(v) : Promise.resolve(v as T);
  };
  return {
    resolveMx: (d) => answer<MxRecord[]>(mx, d),
    resolveAddresses: (h) => answer<string[]>(a, h),
  };
}

describe("orderMx (RFC 5321 §5.1)", () => {
  it("sorts by preference and shuffles hosts of equal preference", () => {
    const records = [
      { exchange: "c", priority: 20 },
      { exchange: "a1", priority: 10 },
      { exchange: "a2", priority: 10 },
    ];
    const keys = [0.9, 0.8, 0.1];
    expect(orderMx(records, () => keys.shift()!).map((r) => r.exchange)).toEqual(["a2", "a1", "c"]);
    const keys2 = [0.9, 0.1, 0.8];
    expect(orderMx(records, () => keys2.shift()!).map((r) => r.exchange)).toEqual([
      "a1",
      "a2",
      "c",
    ]);
  });
});

describe("resolveTargets", () => {
  const mx = { type: "mx" as const, domain: "fabrikam.test" };

  it("lists every address of every MX host in order, on the connector's port", async () => {
    const dns = fakeDns(
      {
        "fabrikam.test": [
          { exchange: "mx2", priority: 20 },
          { exchange: "mx1", priority: 10 },
        ],
      },
      { mx1: ["10.0.0.1", "2001:db8::1"], mx2: ["10.0.0.2"] },
    );
    const r = await resolveTargets(dns, connector({ port: 2525 }), mx);
    expect(r).toEqual({
      ok: true,
      targets: [
        { host: "mx1", address: "10.0.0.1", port: 2525 },
        { host: "mx1", address: "2001:db8::1", port: 2525 },
        { host: "mx2", address: "10.0.0.2", port: 2525 },
      ],
    });
  });

  it.each<[string, Record<string, Answer>, Record<string, Answer>, string, string]>([
    [
      "a null MX (RFC 7505)",
      { "fabrikam.test": [{ exchange: ".", priority: 0 }] },
      {},
      "permanent",
      "5.1.10",
    ],
    ["NXDOMAIN", {}, {}, "permanent", "5.4.4"],
    [
      "no MX and no address",
      { "fabrikam.test": new DnsError("noData", "ENODATA") },
      { "fabrikam.test": new DnsError("noData", "ENODATA") },
      "permanent",
      "5.4.4",
    ],
    [
      "SERVFAIL",
      { "fabrikam.test": new DnsError("temporary", "ESERVFAIL") },
      {},
      "transient",
      "4.4.3",
    ],
    [
      "MX hosts without addresses",
      { "fabrikam.test": [{ exchange: "mx1", priority: 10 }] },
      {},
      "transient",
      "4.4.3",
    ],
  ])("%s", async (_label, mxTable, aTable, status, enhanced) => {
    const r = await resolveTargets(fakeDns(mxTable, aTable), connector(), mx);
    expect(r).toMatchObject({ ok: false, status, reply: { enhanced } });
  });

  it("uses the domain itself when it has no MX (implicit MX)", async () => {
    const dns = fakeDns(
      { "fabrikam.test": new DnsError("noData", "ENODATA") },
      { "fabrikam.test": ["10.0.0.9"] },
    );
    expect(await resolveTargets(dns, connector(), mx)).toEqual({
      ok: true,
      targets: [{ host: "fabrikam.test", address: "10.0.0.9", port: 25 }],
    });
  });

  it("ignores a null MX record listed beside real ones", async () => {
    const dns = fakeDns(
      {
        "fabrikam.test": [
          { exchange: ".", priority: 0 },
          { exchange: "mx1", priority: 10 },
        ],
      },
      { mx1: ["10.0.0.1"] },
    );
    expect(await resolveTargets(dns, connector(), mx)).toMatchObject({
      ok: true,
      targets: [{ host: "mx1" }],
    });
  });

  it("takes smart hosts in listed order with their own port or the connector's", async () => {
    const c = connector({
      dnsRoutingEnabled: false,
      smartHosts: ["relay.contoso.test", "10.0.0.6:587"],
      port: 2525,
    });
    const dns = fakeDns({}, { "relay.contoso.test": ["10.0.0.5"] });
    const r = await resolveTargets(dns, c, { type: "smarthost", hosts: c.smartHosts });
    expect(r).toEqual({
      ok: true,
      targets: [
        { host: "relay.contoso.test", address: "10.0.0.5", port: 2525 },
        { host: "10.0.0.6", address: "10.0.0.6", port: 587 },
      ],
    });
  });
});

describe("courierTls (Exchange RequireTLS / TlsAuthLevel)", () => {
  it.each<[Partial<SendConnectorInput>, object]>([
    [{}, { mode: "opportunistic", validate: "none" }],
    [{ requireTls: true }, { mode: "required", validate: "none" }],
    [
      { requireTls: true, tlsAuthLevel: "EncryptionOnly" },
      { mode: "required", validate: "none" },
    ],
    [
      { requireTls: true, tlsAuthLevel: "CertificateValidation" },
      { mode: "required", validate: "certificate" },
    ],
    [
      { requireTls: true, tlsAuthLevel: "DomainValidation", tlsDomain: "mail.partner.test" },
      { mode: "required", validate: "domain", servername: "mail.partner.test" },
    ],
    [
      {
        dnsRoutingEnabled: false,
        smartHosts: ["relay.test"],
        smartHostAuthMechanism: "BasicAuthRequireTls",
        smartHostAuthSecret: "s",
      },
      { mode: "required", validate: "none" },
    ],
  ])("%o", (fields, tls) => {
    expect(courierTls(connector(fields))).toEqual(tls);
  });
});

describe("planRoutes and job ids", () => {
  it("groups domains that share a connector and next hop into one job", () => {
    const smart = connector({
      name: "Smart",
      dnsRoutingEnabled: false,
      smartHosts: ["10.0.0.5"],
      addressSpaces: [{ domain: "*.test", cost: 1 }],
    });
    const plan = planRoutes([smart, connector()], { sender: "a@contoso.test", size: 10 }, [
      "x@a.test",
      "y@b.test",
      "z@c.example",
    ]);
    expect(plan.groups.map((g) => [g.connector.name, g.nextHopKey, g.recipients])).toEqual([
      ["Smart", "10.0.0.5", ["x@a.test", "y@b.test"]],
      ["To Internet", "c.example", ["z@c.example"]],
    ]);
    expect(plan.unroutable).toEqual([]);
  });

  it("gives the same job id for the same message, connector and next hop only", () => {
    const id = deliveryJobId("m1", "To Internet", "fabrikam.test");
    expect(deliveryJobId("m1", "to internet", "fabrikam.test")).toBe(id);
    expect(deliveryJobId("m1", "To Internet", "contoso.test")).not.toBe(id);
    expect(deliveryJobId("m2", "To Internet", "fabrikam.test")).toBe(`m2${id.slice(2)}`);
    expect(id).toMatch(/^m1-[0-9a-f]{8}$/);
  });
});

describe("queue message validation", () => {
  it("names the problem and salvages ids from an invalid job", () => {
    const r = parseDeliveryJob(
      JSON.stringify({ messageId: "m1", recipients: ["a@b.test"], mailFrom: "s@c.test" }),
    );
    expect(r).toMatchObject({
      ok: false,
      messageId: "m1",
      recipients: ["a@b.test"],
      sender: "s@c.test",
    });
    expect(r.ok ? "" : r.reason).toMatch(/^invalid: jobId/);
    expect(parseDeliveryJob("{not json")).toMatchObject({ ok: false, recipients: [] });
  });
});

describe("dnsErrorKind (c-ares codes)", () => {
  it.each([
    ["ENOTFOUND", "notFound"],
    ["ENODATA", "noData"],
    ["ESERVFAIL", "temporary"],
    ["ETIMEOUT", "temporary"],
    ["ECONNREFUSED", "temporary"],
    [undefined, "temporary"],
  ])("%s is %s", (code, kind) => {
    expect(dnsErrorKind(code)).toBe(kind);
  });
});

describe("delayedStatus (RFC 3464 §2.3.4)", () => {
  it.each([
    ["4.2.1", "4.2.1"],
    ["5.7.8", "4.7.8"],
    ["5.1.10", "4.1.10"],
  ])("%s becomes %s", (from, to) => {
    expect(delayedStatus(from)).toBe(to);
  });
});
