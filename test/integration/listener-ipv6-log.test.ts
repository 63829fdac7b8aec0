// The listener over real loopback sockets: IPv6 clients and the protocol log.
import { describe, expect, test } from "vitest";
import { acceptedDomain, receiveConnector, useTestListener } from "#test/support/listener.ts";
import { transaction } from "#test/support/smtp-client.ts";

const h = useTestListener();
const start = h.start;
const overIpv6 = () => h.open({ binding: "[::1]:25" });

/** A client from `from` that has said EHLO. */
async function ready(from: string) {
  const { client } = await h.open({ from });
  expect((await client.command("EHLO app.example")).code).toBe(250);
  return client;
}

describe("IPv6", () => {
  test("ranges are matched for IPv6 clients, most specific first", async () => {
    await start([
      receiveConnector("V6 Default", { bindings: ["[::1]:25"], banner: "v6 default" }),
      receiveConnector("V6 Loopback", {
        bindings: ["[::1]:25"],
        remoteIpRanges: ["::1"],
        banner: "v6 loopback",
      }),
      receiveConnector("V6 Docs", {
        bindings: ["[::1]:25"],
        remoteIpRanges: ["2001:db8::/32"],
        banner: "v6 docs",
      }),
    ]);
    const { greeting, client } = await overIpv6();
    expect(greeting.text).toBe("220 v6 loopback");
    await client.command("EHLO app.example");
    await client.command("MAIL FROM:<a@example.org>");
    expect((await client.command("RCPT TO:<x@fabrikam.com>")).code).toBe(550);
  });

  test("an IPv6 client outside every IPv6 range gets 421 4.3.2, IPv4 ranges do not cover it", async () => {
    await start([
      receiveConnector("V6 Docs", {
        bindings: ["[::1]:25"],
        remoteIpRanges: ["2001:db8::/32", "0.0.0.0-255.255.255.255"],
      }),
    ]);
    expect((await overIpv6()).greeting.text).toMatch(/^421 4\.3\.2 /);
  });
});

describe("protocol log", () => {
  test("Verbose logs the conversation with connect and disconnect; None logs nothing", async () => {
    await start([
      receiveConnector("Loud", { remoteIpRanges: ["127.0.0.2"] }),
      receiveConnector("Quiet", { protocolLogging: "None" }),
      acceptedDomain("contoso.com"),
    ]);
    const loud = await ready("127.0.0.2");
    await transaction(loud, "a@example.org", ["b@contoso.com"], "Subject: loud\r\n\r\nHello\r\n");
    loud.write("QUIT\r\n");
    await loud.closed();
    const quiet = await ready("127.0.0.3");
    quiet.write("QUIT\r\n");
    await quiet.closed();
    await expect.poll(() => h.t.protocol.at(-1)?.event).toBe("-");
    expect(new Set(h.t.protocol.map((e) => e.connector))).toEqual(new Set(["Loud"]));
    const lines = h.t.protocol.map((e) => `${e.event} ${e.data}`);
    expect(lines[0]).toBe("+ Loud");
    expect(lines).toContain("< MAIL FROM:<a@example.org>");
    expect(lines).toContain("> 250 2.1.0 Accepted");
    expect(lines.some((l) => /^\* queued \S+ \(\d+ bytes\)$/.test(l))).toBe(true);
    expect(h.t.protocol.every((e) => e.remote.startsWith("127.0.0.2:"))).toBe(true);
    expect(h.t.protocol.map((e) => e.sequence)).toEqual(h.t.protocol.map((_, i) => i));
  });
});
