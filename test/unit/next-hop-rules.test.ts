// The pure rules of next-hop limits: slots, rate, throttle backoff and ramp, circuits, throttle replies, failover in the selection.
import { describe, expect, test } from "vitest";
import { circuitClosed, circuitFailed, circuitGate } from "#core/next-hop/circuit.ts";
import { admitToHop, connectionsNow, hopLimits, throttleHop } from "#core/next-hop/state.ts";
import { isHostDown, isThrottleReply } from "#core/next-hop/throttle.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import { SendConnectorSchema } from "#core/records/send-connector.ts";
import {
  DEFAULT_TRANSPORT_SETTINGS,
  TransportSettingsSchema,
} from "#core/records/transport-settings.ts";
import { explainRoute } from "#core/routing/select.ts";

const T0 = Date.parse("2026-11-24T10:00:00Z");
const LIMITS = { maxConnections: 2, maxMessagesPerConnection: 20, maxPerMinute: 3 };
const THROTTLE = {
  throttleBackoffSeconds: 60,
  throttleBackoffMaxSeconds: 900,
  throttleRampSeconds: 300,
};
const CIRCUIT = {
  circuitBreakerThreshold: 3,
  circuitBreakerWindowSeconds: 300,
  circuitBreakerOpenSeconds: 60,
  circuitBreakerMaxOpenSeconds: 900,
};

describe("hop limits", () => {
  test("Exchange's defaults: 20 connections, 20 messages per connection, no rate; the connector's own win", () => {
    const c = SendConnectorSchema.parse({
      kind: "SendConnector",
      name: "Out",
      addressSpaces: [{ domain: "*" }],
    });
    expect(hopLimits(c, DEFAULT_TRANSPORT_SETTINGS)).toEqual({
      maxConnections: 20,
      maxMessagesPerConnection: 20,
    });
    const own = { ...c, maxPerDomainOutboundConnections: 2, maxMessagesPerMinute: 30 };
    expect(hopLimits(own, DEFAULT_TRANSPORT_SETTINGS)).toMatchObject({
      maxConnections: 2,
      maxPerMinute: 30,
    });
  });

  test("bad values are refused, naming the field", () => {
    const r = SendConnectorSchema.safeParse({
      kind: "SendConnector",
      name: "Out",
      addressSpaces: [{ domain: "*" }],
      maxPerDomainOutboundConnections: 0,
      maxMessagesPerMinute: 2.5,
    });
    expect(r.success).toBe(false);
    const paths = r.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(paths).toEqual([
      "maxPerDomainOutboundConnections: must be at least 1 connection",
      "maxMessagesPerMinute: must be a whole number of messages",
    ]);
    const bad = TransportSettingsSchema.safeParse({
      kind: "TransportSettings",
      throttleReplyPatterns: ["(unclosed"],
    });
    expect(bad.error?.issues[0]?.path).toEqual(["throttleReplyPatterns", 0]);
  });

  test("slots: a third holder waits while two hold leases; an ended lease frees its slot", () => {
    const a = admitToHop(undefined, LIMITS, "a", T0 + 60_000, T0);
    expect(a.ok).toBe(true);
    const b = admitToHop(a.ok ? a.state : undefined, LIMITS, "b", T0 + 10_000, T0);
    const state = b.ok ? b.state : undefined;
    expect(admitToHop(state, LIMITS, "c", T0 + 60_000, T0)).toMatchObject({
      ok: false,
      kind: "busy",
    });
    expect(admitToHop(state, LIMITS, "c", T0 + 60_000, T0 + 10_001).ok).toBe(true);
  });

  test("rate: the fourth message in a minute waits until the first is a minute old", () => {
    let state: Parameters<typeof admitToHop>[0];
    for (const [i, at] of [0, 1000, 2000].entries()) {
      const r = admitToHop(state, { ...LIMITS, maxConnections: 10 }, `j${i}`, T0 + at + 1, T0 + at);
      expect(r.ok).toBe(true);
      if (r.ok) state = r.state;
    }
    expect(
      admitToHop(state, { ...LIMITS, maxConnections: 10 }, "j3", T0 + 99_000, T0 + 3000),
    ).toMatchObject({
      ok: false,
      kind: "rate",
      until: T0 + 60_000,
    });
    expect(
      admitToHop(state, { ...LIMITS, maxConnections: 10 }, "j3", T0 + 99_000, T0 + 60_001).ok,
    ).toBe(true);
  });

  test("throttle: the hop backs off 60 s, then 120 s for a second throttle in the ramp, half the connections while ramping", () => {
    const first = throttleHop(undefined, THROTTLE, "421 4.7.28", T0);
    expect(first.throttle).toMatchObject({ until: T0 + 60_000, strikes: 1 });
    // A reply from an attempt already in flight adds no strike.
    expect(throttleHop(first, THROTTLE, "421 4.7.28", T0 + 5000).throttle?.strikes).toBe(1);
    expect(admitToHop(first, LIMITS, "x", T0 + 99_000, T0 + 30_000)).toMatchObject({
      ok: false,
      kind: "throttled",
    });
    expect(connectionsNow(first, { ...LIMITS, maxConnections: 20 }, T0 + 61_000)).toBe(10);
    const second = throttleHop(first, THROTTLE, "421 4.7.28", T0 + 100_000);
    expect(second.throttle).toMatchObject({ until: T0 + 220_000, strikes: 2 });
    // After the ramp the full limit is back and the next throttle starts at 60 s again.
    expect(connectionsNow(second, { ...LIMITS, maxConnections: 20 }, T0 + 520_001)).toBe(20);
    expect(throttleHop(second, THROTTLE, "x", T0 + 600_000).throttle?.strikes).toBe(1);
  });
});

describe("circuit breaker", () => {
  test("three failures open it for 60 s; then one probe; a failed probe opens it for 120 s; an answer closes it", () => {
    let c = circuitFailed(undefined, CIRCUIT, "451 4.4.1 Unable to connect", T0);
    c = circuitFailed(c, CIRCUIT, "451 4.4.1 Unable to connect", T0 + 1000);
    expect(circuitGate(c, T0 + 1500, T0 + 99_000).kind).toBe("closed");
    c = circuitFailed(c, CIRCUIT, "451 4.4.1 Unable to connect", T0 + 2000);
    expect(circuitGate(c, T0 + 3000, T0 + 99_000)).toMatchObject({
      kind: "open",
      until: T0 + 62_000,
    });
    const probe = circuitGate(c, T0 + 62_000, T0 + 80_000);
    expect(probe.kind).toBe("probe");
    if (probe.kind !== "probe") return;
    expect(circuitGate(probe.state, T0 + 63_000, T0 + 99_000)).toMatchObject({
      kind: "open",
      until: T0 + 80_000,
    });
    const again = circuitFailed(
      probe.state,
      CIRCUIT,
      "451 4.4.2 Connection timed out",
      T0 + 65_000,
    );
    expect(again.openUntil).toBe(T0 + 65_000 + 120_000);
    expect(circuitGate(circuitClosed(T0 + 200_000), T0 + 200_001, 0).kind).toBe("closed");
  });

  test("failures spread wider than the window do not open it", () => {
    let c = circuitFailed(undefined, CIRCUIT, "x", T0);
    c = circuitFailed(c, CIRCUIT, "x", T0 + 200_000);
    c = circuitFailed(c, CIRCUIT, "x", T0 + 400_000);
    expect(c.openUntil).toBeUndefined();
  });

  test("only failures without an SMTP reply count against a host", () => {
    const down = { recipient: "a@b", status: "transient" as const };
    expect(
      isHostDown([{ ...down, reply: { code: 451, enhanced: "4.4.1", text: "Unable to connect" } }]),
    ).toBe(true);
    expect(
      isHostDown([
        { ...down, reply: { code: 451, enhanced: "4.4.2", text: "Connection timed out" } },
      ]),
    ).toBe(true);
    expect(
      isHostDown([{ ...down, reply: { code: 421, enhanced: "4.3.2", text: "Too busy" } }]),
    ).toBe(false);
  });
});

describe("throttle replies", () => {
  test.each([
    [421, "4.7.28", "Our system has detected an unusual rate of unsolicited mail", true],
    [451, "4.7.500", "Server busy. Please try again later from [192.0.2.5]", true],
    [
      421,
      "4.7.0",
      "[TSS04] Messages from 192.0.2.5 temporarily deferred due to unexpected volume",
      true,
    ],
    [451, "4.7.1", "Rate limit exceeded, try again later", true],
    [451, "4.7.1", "Greylisted, see https://postgrey.schweikert.ch", false],
    [451, "4.7.1", "Greylisted, try again later", false],
    [421, "4.7.1", "Greylisting in action, try again later", false],
    [451, "4.7.1", "Please try again later", false],
    [421, "4.7.0", "Too many messages from your IP, try again later", true],
    [421, "4.7.0", "Service temporarily unavailable, try again later", true],
    [550, "5.7.28", "permanent block", false],
    [451, "4.4.1", "Unable to connect", false],
  ])("%i %s %s → %s", (code, enhanced, text, expected) => {
    expect(isThrottleReply({ code, enhanced, text })).toBe(expected);
  });

  test("the admin's patterns add forms", () => {
    const reply = { code: 451, enhanced: "4.3.0", text: "Too many concurrent SMTP connections" };
    expect(isThrottleReply(reply)).toBe(false);
    expect(isThrottleReply(reply, ["concurrent SMTP connections"])).toBe(true);
  });
});

describe("failover in the selection", () => {
  const set = buildRecordSet([
    {
      kind: "SendConnector",
      name: "Primary",
      addressSpaces: [{ domain: "*", cost: 1 }],
      dnsRoutingEnabled: false,
      smartHosts: ["smtp1.contoso.test"],
    },
    {
      kind: "SendConnector",
      name: "Backup",
      addressSpaces: [{ domain: "*", cost: 2 }],
      dnsRoutingEnabled: false,
      smartHosts: ["smtp2.contoso.test"],
    },
  ]);
  const q = { recipientDomain: "fabrikam.test", sender: "app@contoso.test", size: 100 };

  test("the cost-2 connector wins while every smart host of the cost-1 one is open", () => {
    const down = new Map([
      ["Primary", "every smart host has an open circuit (smtp1.contoso.test:25 until …)"],
    ]);
    const { result, candidates } = explainRoute(set.sendConnectors, q, down);
    expect(result.ok && result.connector.name).toBe("Backup");
    expect(candidates.find((c) => c.connector === "Primary")).toMatchObject({
      verdict: "ineligible",
      reason: down.get("Primary"),
    });
  });

  test("with both down the best connector keeps the mail (it waits) and says why", () => {
    const down = new Map([
      ["Primary", "open A"],
      ["Backup", "open B"],
    ]);
    const { result, candidates } = explainRoute(set.sendConnectors, q, down);
    expect(result.ok && result.connector.name).toBe("Primary");
    expect(candidates[0]?.reason).toMatch(/open A; no other connector can take it/);
  });
});
