// Receive connector selection by binding and most specific RemoteIPRanges, and the listener's sockets.
import { describe, expect, test } from "vitest";
import {
  type ConnectionInfo,
  listenerBindings,
  selectReceiveConnector,
} from "#core/receive/select.ts";
import { parseHostPort } from "#core/records/common.ts";
import {
  type ReceiveConnector,
  type ReceiveConnectorInput,
  ReceiveConnectorSchema,
} from "#core/records/receive-connector.ts";

const rc = (name: string, extra: Partial<ReceiveConnectorInput> = {}): ReceiveConnector =>
  ReceiveConnectorSchema.parse({ kind: "ReceiveConnector", name, ...extra });

const on25 = (remoteIp: string, localIp = "10.0.0.4"): ConnectionInfo => ({
  localIp,
  localPort: 25,
  remoteIp,
});

// Exchange's "Receive connectors" documentation, several connectors on one port: both listen on port 25; "Exchange will use the receive
// connector that is the most specific match for the source IP address of the SMTP connection".
const defaultFrontend = rc("Default Frontend", { bindings: ["0.0.0.0:25", "[::]:25"] });
const anonRelay = rc("Anon Relay", {
  bindings: ["0.0.0.0:25"],
  remoteIpRanges: ["192.168.1.75"],
  grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
});
const lan = rc("LAN", { bindings: ["0.0.0.0:25"], remoteIpRanges: ["192.168.1.0/24"] });
const clientFrontend = rc("Client Frontend", {
  bindings: ["0.0.0.0:587", "[::]:587"],
  permissionGroups: ["Users"],
});
const v6Lab = rc("IPv6 Lab", {
  bindings: ["[::]:25"],
  remoteIpRanges: ["2001:db8:1::/48", "2001:db8:1:2::10-2001:db8:1:2::20"],
});
const all = [defaultFrontend, anonRelay, lan, clientFrontend, v6Lab];

describe("selectReceiveConnector", () => {
  test.each([
    // The relay connector's single address beats the default connector's "anywhere".
    [on25("192.168.1.75"), "Anon Relay"],
    // "everything else connecting to port 25 will be handled by the default connector".
    [on25("203.0.113.9"), "Default Frontend"],
    // 192.168.1.75 beats 192.168.1.0/24 beats 0.0.0.0-255.255.255.255.
    [on25("192.168.1.76"), "LAN"],
    // A dual-stack socket reports IPv4 clients as IPv4-mapped IPv6; IPv4 ranges still match.
    [on25("::ffff:192.168.1.75", "::ffff:10.0.0.4"), "Anon Relay"],
    [on25("::ffff:198.51.100.1"), "Default Frontend"],
    // IPv6: a start-end range inside a /48 is more specific than the /48, which beats "::-ffff:…".
    [on25("2001:db8:1:2::15", "2001:db8::4"), "IPv6 Lab"],
    [on25("2001:db8:1:ffff::1", "2001:db8::4"), "IPv6 Lab"],
    [on25("2001:db8:2::1", "2001:db8::4"), "Default Frontend"],
    [{ localIp: "10.0.0.4", localPort: 587, remoteIp: "192.168.1.75" }, "Client Frontend"],
  ])("%j → %s", (conn, expected) => {
    expect(selectReceiveConnector(all, conn)?.name).toBe(expected);
  });

  test("the most specific of several ranges on one connector counts", () => {
    const wide = rc("Wide", { remoteIpRanges: ["10.0.0.0/8"], bindings: ["0.0.0.0:25"] });
    const mixed = rc("Mixed", {
      remoteIpRanges: ["0.0.0.0/0", "10.1.2.0/24"],
      bindings: ["0.0.0.0:25"],
    });
    expect(selectReceiveConnector([wide, mixed], on25("10.1.2.3"))?.name).toBe("Mixed");
    expect(selectReceiveConnector([wide, mixed], on25("10.9.9.9"))?.name).toBe("Wide");
  });

  test("no connector on the port, or no range holding the client → undefined (listener: 421 4.3.2)", () => {
    expect(
      selectReceiveConnector(all, { ...on25("192.168.1.75"), localPort: 2525 }),
    ).toBeUndefined();
    expect(selectReceiveConnector([anonRelay], on25("192.168.1.99"))).toBeUndefined();
    expect(selectReceiveConnector(all, on25("not an ip"))).toBeUndefined();
  });

  test("a disabled connector is never chosen, so the next most specific one is", () => {
    const disabled = { ...anonRelay, enabled: false };
    expect(selectReceiveConnector([defaultFrontend, disabled], on25("192.168.1.75"))?.name).toBe(
      "Default Frontend",
    );
  });

  test("a binding to the specific local address beats 0.0.0.0 at equal specificity", () => {
    const wildcard = rc("A Wildcard", { bindings: ["0.0.0.0:25"] });
    const specific = rc("B Specific", { bindings: ["10.0.0.4:25"] });
    expect(selectReceiveConnector([wildcard, specific], on25("198.51.100.7"))?.name).toBe(
      "B Specific",
    );
    // The specific binding does not cover connections to the machine's other addresses.
    expect(
      selectReceiveConnector([wildcard, specific], on25("198.51.100.7", "10.0.0.5"))?.name,
    ).toBe("A Wildcard");
  });

  test("remote specificity comes before the local binding", () => {
    const specificLocal = rc("Specific Local", { bindings: ["10.0.0.4:25"] });
    expect(selectReceiveConnector([specificLocal, anonRelay], on25("192.168.1.75"))?.name).toBe(
      "Anon Relay",
    );
  });

  test("0.0.0.0 binds IPv4 only and :: IPv6 only, as in Exchange", () => {
    const v4only = rc("V4", { bindings: ["0.0.0.0:25"] });
    const v6only = rc("V6", { bindings: ["[::]:25"] });
    expect(selectReceiveConnector([v4only], on25("2001:db8::9", "2001:db8::4"))).toBeUndefined();
    expect(selectReceiveConnector([v6only], on25("192.0.2.9"))).toBeUndefined();
    expect(selectReceiveConnector([v6only], on25("2001:db8::9", "2001:db8::4"))?.name).toBe("V6");
  });

  test("record order does not decide a tie: the name does", () => {
    const a = rc("Alpha", { bindings: ["0.0.0.0:25"] });
    const b = rc("Bravo", { bindings: ["0.0.0.0:25"] });
    expect(selectReceiveConnector([b, a], on25("192.0.2.1"))?.name).toBe("Alpha");
    expect(selectReceiveConnector([a, b], on25("192.0.2.1"))?.name).toBe("Alpha");
  });
});

describe("listenerBindings", () => {
  test("Default Frontend + Anon Relay on the same port 25 need one socket per address family", () => {
    // "Multiple receive connectors on the Frontend Transport service can listen on the same port".
    expect(listenerBindings([defaultFrontend, anonRelay, clientFrontend])).toEqual([
      { ip: "0.0.0.0", port: 25, implicitTls: false },
      { ip: "::", port: 25, implicitTls: false },
      { ip: "0.0.0.0", port: 587, implicitTls: false },
      { ip: "::", port: 587, implicitTls: false },
    ]);
  });

  test("implicit TLS, specific addresses, disabled connectors", () => {
    const smtps = rc("Client 465", { bindings: ["[0:0::0]:465"], implicitTls: true });
    const internal = rc("Internal", { bindings: ["10.0.0.4:2525", "[2001:db8::4]:2525"] });
    const off = rc("Off", { bindings: ["0.0.0.0:26"], enabled: false });
    expect(listenerBindings([smtps, internal, off])).toEqual([
      { ip: "::", port: 465, implicitTls: true },
      { ip: "10.0.0.4", port: 2525, implicitTls: false },
      { ip: "2001:db8::4", port: 2525, implicitTls: false },
    ]);
  });

  test("a specific address under 0.0.0.0 on the same port is served by the wildcard socket", () => {
    const specific = rc("Specific", { bindings: ["10.0.0.4:25", "[2001:db8::4]:25"] });
    expect(listenerBindings([defaultFrontend, specific])).toEqual([
      { ip: "0.0.0.0", port: 25, implicitTls: false },
      { ip: "::", port: 25, implicitTls: false },
    ]);
    // …and the connection still reaches the specific connector by its local address.
    expect(selectReceiveConnector([defaultFrontend, specific], on25("192.0.2.1"))?.name).toBe(
      "Specific",
    );
  });
});

describe("binding and host parsing (core/records/common.ts)", () => {
  // Regression: "0.0.0.0:25" passed the IPv6 character test and came back as a host without a port.
  test.each([
    ["0.0.0.0:25", { host: "0.0.0.0", port: 25 }],
    ["10.0.0.5:587", { host: "10.0.0.5", port: 587 }],
    ["cafe.de:25", { host: "cafe.de", port: 25 }],
    ["[::]:587", { host: "::", port: 587 }],
    ["2001:db8::5", { host: "2001:db8::5" }],
  ])("%j → %j", (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });
});
