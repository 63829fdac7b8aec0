// PROXY protocol v1 and v2 on the listener: the real client chooses the connector, the balancer never does.
import { describe, expect, test } from "vitest";
import type { InlineBody } from "#core/message.ts";
import { decodeInline } from "#core/usecases/body.ts";
import { encodeProxyV2 } from "#listener/proxy-protocol.ts";
import { acceptedDomain, receiveConnector, useTestListener } from "#test/support/listener.ts";
import { RawSmtpClient, transaction } from "#test/support/smtp-client.ts";

const h = useTestListener();

const relay = ["AnonymousUsers:AcceptAnyRecipient"];
/** 127.0.0.1 plays the load balancer; the connector for its own address would let it relay. */
const records = [
  receiveConnector("Default", { banner: "default" }),
  receiveConnector("Partner", {
    remoteIpRanges: ["203.0.113.0/24"],
    grantedPermissions: relay,
    banner: "partner",
  }),
  receiveConnector("V6 Partner", {
    remoteIpRanges: ["2001:db8::/32"],
    grantedPermissions: relay,
    banner: "v6 partner",
  }),
  receiveConnector("Balancer", {
    remoteIpRanges: ["127.0.0.1"],
    grantedPermissions: relay,
    banner: "balancer",
  }),
  receiveConnector("Partner TLS", {
    bindings: ["127.0.0.1:465"],
    implicitTls: true,
    remoteIpRanges: ["203.0.113.0/24"],
    grantedPermissions: relay,
    banner: "partner tls",
  }),
  acceptedDomain("contoso.com"),
];

async function start() {
  const t = await h.start(records, {
    trustedProxies: ["127.0.0.1"],
    proxyHeaderTimeoutMs: 500,
  });
  return t;
}

async function via(
  prelude: Uint8Array | string,
  options: { from?: string; binding?: string; tls?: boolean } = {},
) {
  const binding = options.binding ?? "127.0.0.1:25";
  const c = await RawSmtpClient.connect({
    host: "127.0.0.1",
    port: h.t.port(binding),
    prelude: typeof prelude === "string" ? Buffer.from(prelude) : prelude,
    ...(options.from ? { localAddress: options.from } : {}),
    ...(options.tls ? { tls: { ca: h.t.ca } } : {}),
  });
  h.track(c);
  return c;
}

const v2 = (ip: string) =>
  encodeProxyV2({
    command: "proxy",
    source: { ip, port: 40000 },
    destination: { ip: ip.includes(":") ? "2001:db8::25" : "10.0.0.4", port: 25 },
  });

describe("from a trusted balancer", () => {
  test("v1: the client in the header picks the connector and is the client everywhere", async () => {
    await start();
    const c = await via("PROXY TCP4 203.0.113.9 10.0.0.4 40000 25\r\n");
    expect((await c.read()).text).toBe("220 partner");
    await c.command("EHLO partner.example");
    const r = await transaction(
      c,
      "app@partner.example",
      ["x@fabrikam.com"],
      "Subject: a\r\n\r\nb\r\n",
    );
    expect(r.end?.code).toBe(250);
    const m = h.t.queue.peek()[0]!.body;
    expect(m.origin).toMatchObject({ receiveConnector: "Partner", clientIp: "203.0.113.9" });
    expect(Buffer.from(decodeInline(m.body as InlineBody)).toString()).toMatch(
      /^Received: from partner\.example \(\[203\.0\.113\.9\]\)/,
    );
    expect(
      h.t.protocol
        .filter((e) => e.connector === "Partner")
        .every((e) => e.remote === "203.0.113.9:40000"),
    ).toBe(true);
  });

  test.each([
    ["IPv4", "203.0.113.9", "220 partner"],
    ["IPv6", "2001:db8::9", "220 v6 partner"],
  ])("v2 %s", async (_family, ip, greeting) => {
    await start();
    const c = await via(v2(ip));
    expect((await c.read()).text).toBe(greeting);
  });

  test("v2 header and the first SMTP bytes in one segment", async () => {
    await start();
    const c = await via(
      Buffer.concat([v2("203.0.113.9"), Buffer.from("EHLO pipelined.example\r\n")]),
    );
    expect((await c.read()).text).toBe("220 partner");
    expect((await c.read()).lines[0]).toBe("250-relay.test Nice to meet you, [203.0.113.9]");
  });

  test("v2 before an implicit-TLS handshake", async () => {
    await start();
    const c = await via(v2("203.0.113.9"), { binding: "127.0.0.1:465", tls: true });
    expect(c.encrypted).toBe(true);
    expect((await c.read()).text).toBe("220 partner tls");
  });

  test("v2 LOCAL (the balancer's own health check) never gets the balancer's connector: 421 4.3.2", async () => {
    await start();
    const c = await via(encodeProxyV2({ command: "local" }));
    expect((await c.read()).text).toMatch(/^421 4\.3\.2 /);
    await c.closed();
  });

  test("no PROXY header from a trusted balancer: closed without a session", async () => {
    await start();
    const c = await via("EHLO sneaky.example\r\n");
    await expect(c.read()).rejects.toThrow("connection closed");
    expect(h.t.protocol.some((e) => e.connector === "Balancer")).toBe(false);
  });

  test("a trusted balancer that sends nothing is dropped after proxyHeaderTimeoutMs", async () => {
    await start();
    const c = await via("");
    await c.closed();
    expect(h.t.logs).toContainEqual(
      expect.objectContaining({
        message: "connection from a trusted proxy without a valid PROXY header",
        fields: expect.objectContaining({ reason: "no PROXY header in time" }),
      }),
    );
  });
});

describe("from anyone else", () => {
  test("a PROXY line is just an unknown command and earns nothing", async () => {
    await start();
    const c = await via("PROXY TCP4 203.0.113.9 10.0.0.4 40000 25\r\n", { from: "127.0.0.2" });
    expect((await c.read()).text).toBe("220 default");
    expect((await c.read()).code).toBe(500);
    await c.command("EHLO spoof.example");
    await c.command("MAIL FROM:<a@example.org>");
    expect((await c.command("RCPT TO:<x@fabrikam.com>")).text).toMatch(/^550 5\.7\.54 /);
  });

  test("a v2 header is not parsed: its signature reads as a QUIT, by the spec's design", async () => {
    await start();
    const c = await via(v2("203.0.113.9"), { from: "127.0.0.2" });
    const replies: string[] = [];
    for (;;) {
      const r = await c.read().catch(() => undefined);
      if (!r) break;
      replies.push(r.text);
    }
    expect(replies[0]).toBe("220 default");
    expect(replies.at(-1)).toBe("221 2.0.0 Bye");
    expect(replies.slice(1, -1).every((r) => r.startsWith("5"))).toBe(true);
  });
});
