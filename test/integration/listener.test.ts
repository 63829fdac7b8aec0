// The listener over real loopback sockets: connector selection, policy replies, DATA checks and queueing.
import { describe, expect, test } from "vitest";
import {
  acceptedDomain,
  queuedText,
  receiveConnector,
  useTestListener,
} from "#test/support/listener.ts";
import { RawSmtpClient, transaction } from "#test/support/smtp-client.ts";

const h = useTestListener();
const start = h.start;

async function open(from?: string, binding?: string) {
  return h.open({ ...(from ? { from } : {}), ...(binding ? { binding } : {}) });
}

async function ready(from?: string) {
  const { client } = await open(from);
  expect((await client.command("EHLO app.example")).code).toBe(250);
  return client;
}

const contoso = acceptedDomain("contoso.com");
const MESSAGE = "From: app@contoso.com\r\nSubject: Report\r\nMessage-ID: <r1@app>\r\n\r\nHello\r\n";

describe("choosing the receive connector", () => {
  const records = [
    receiveConnector("Default Frontend", { banner: "relay.test Default Frontend" }),
    receiveConnector("Lab Subnet", {
      remoteIpRanges: ["127.0.0.0/24"],
      banner: "relay.test Lab Subnet",
    }),
    receiveConnector("Anon Relay", {
      remoteIpRanges: ["127.0.0.2"],
      banner: "relay.test Anon Relay",
    }),
    contoso,
  ];

  test.each([
    ["127.0.0.2", "220 relay.test Anon Relay"],
    ["127.0.0.3", "220 relay.test Lab Subnet"],
    ["127.0.1.1", "220 relay.test Default Frontend"],
  ])("a client from %s is greeted by the most specific connector", async (from, greeting) => {
    await start(records);
    expect((await open(from)).greeting.text).toBe(greeting);
  });

  test("without a banner the greeting names the connector's fqdn", async () => {
    await start([receiveConnector("Default", { fqdn: "mail.contoso.com" })]);
    expect((await open()).greeting.text).toBe("220 mail.contoso.com connector-relay ESMTP ready");
  });

  test("without fqdn the host name of the TransportSettings record is announced", async () => {
    await start([
      receiveConnector("Default"),
      { kind: "TransportSettings", hostName: "mail.fabrikam.com" },
      contoso,
    ]);
    const { client, greeting } = await open();
    expect(greeting.text).toBe("220 mail.fabrikam.com connector-relay ESMTP ready");
    await client.command("EHLO app.example");
    await transaction(client, "a@example.org", ["b@contoso.com"], MESSAGE);
    const m = h.t.queue.peek()[0]!.body;
    const raw = queuedText(m);
    expect(raw).toContain('\tby mail.fabrikam.com (connector-relay; connector="Default")');
  });

  test("no connector covers the client: 421 4.3.2 and the connection closes", async () => {
    await start([receiveConnector("Only .2", { remoteIpRanges: ["127.0.0.2"] })]);
    const { client, greeting } = await open("127.0.0.1");
    expect(greeting.code).toBe(421);
    expect(greeting.text).toMatch(/^421 4\.3\.2 /);
    await client.closed();
  });
});

describe("MAIL and RCPT policy", () => {
  test("an anonymous client may send to accepted domains but not relay: 550 5.7.54", async () => {
    await start([receiveConnector("Default"), contoso]);
    const c = await ready();
    const r = await transaction(
      c,
      "app@example.org",
      ["ops@contoso.com", "x@fabrikam.com"],
      MESSAGE,
    );
    expect(r.rcpt.map((x) => x.text)).toEqual([
      "250 2.1.5 Accepted",
      "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain",
    ]);
    expect(r.end?.code).toBe(250);
    expect(h.t.queue.peek()[0]?.body.envelope.rcptTo).toEqual(["ops@contoso.com"]);
  });

  test("Exchange's anonymous relay connector relays for its own address only", async () => {
    await start([
      receiveConnector("Default"),
      receiveConnector("Anon Relay", {
        remoteIpRanges: ["127.0.0.2"],
        grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
      }),
      contoso,
    ]);
    const relay = await ready("127.0.0.2");
    expect(
      (await transaction(relay, "app@contoso.com", ["x@fabrikam.com"], MESSAGE)).end?.code,
    ).toBe(250);
    const other = await ready("127.0.0.3");
    expect((await other.command("MAIL FROM:<app@contoso.com>")).code).toBe(250);
    expect((await other.command("RCPT TO:<x@fabrikam.com>")).text).toMatch(/^550 5\.7\.54 /);
  });

  test("a sender the connector does not accept: 550 5.7.1", async () => {
    await start([
      receiveConnector("Submit only", {
        permissionGroups: [],
        grantedPermissions: ["AnonymousUsers:Submit"],
      }),
      contoso,
    ]);
    const c = await ready();
    expect((await c.command("MAIL FROM:<someone@example.org>")).text).toBe(
      "550 5.7.1 Client does not have permissions to send as this sender",
    );
  });

  test("more recipients than maxRecipientsPerMessage: 452 4.5.3, the rest of the message goes on", async () => {
    await start([receiveConnector("Default", { maxRecipientsPerMessage: 2 }), contoso]);
    const c = await ready();
    const r = await transaction(
      c,
      "app@example.org",
      ["a@contoso.com", "b@contoso.com", "c@contoso.com"],
      MESSAGE,
    );
    expect(r.rcpt.map((x) => x.code)).toEqual([250, 250, 452]);
    expect(r.rcpt[2]?.text).toBe("452 4.5.3 Too many recipients");
    expect(r.end?.code).toBe(250);
  });

  test("a declared SIZE over maxMessageSize: 552 5.3.4 at MAIL FROM; EHLO advertises the limit", async () => {
    await start([receiveConnector("Default", { maxMessageSize: 10_000 }), contoso]);
    const { client } = await open();
    const ehlo = await client.command("EHLO app.example");
    expect(ehlo.lines).toContain("250 SIZE 10000");
    expect((await client.command("MAIL FROM:<a@example.org> SIZE=10001")).text).toBe(
      "552 5.3.4 Message size exceeds fixed maximum message size",
    );
    expect((await client.command("MAIL FROM:<a@example.org> SIZE=10000")).code).toBe(250);
  });
});

describe("DATA", () => {
  test("the queued message: envelope, origin, Received first, Message-ID and Subject, 250 2.6.0 with its id", async () => {
    await start([receiveConnector("Default"), contoso]);
    const c = await ready("127.0.0.5");
    const r = await transaction(c, "app@example.org", ["ops@contoso.com"], MESSAGE);
    const [queued] = h.t.queue.peek();
    const m = queued!.body;
    expect(r.end?.text).toBe(`250 2.6.0 <${m.id}> Queued mail for delivery`);
    expect(m).toMatchObject({
      envelope: { mailFrom: "app@example.org", rcptTo: ["ops@contoso.com"] },
      origin: {
        type: "smtp",
        receiveConnector: "Default",
        clientIp: "127.0.0.5",
        clientHelo: "app.example",
        tls: false,
      },
      internetMessageId: "<r1@app>",
      subject: "Report",
    });
    expect(m.origin).not.toHaveProperty("authUser");
    const raw = queuedText(m, "latin1");
    expect(raw).toMatch(
      new RegExp(
        `^Received: from app\\.example \\(\\[127\\.0\\.0\\.5\\]\\)\\r\\n\\tby relay\\.test \\(connector-relay; connector="Default"\\) with ESMTP id ${m.id};\\r\\n\\t\\w{3}, `,
      ),
    );
    expect(raw.endsWith(MESSAGE)).toBe(true);
    expect(m.size).toBe(Buffer.byteLength(raw, "latin1"));
  });

  test("a body over inlineBodyLimit goes to the message store under the message id", async () => {
    await start([receiveConnector("Default"), contoso], { inlineBodyLimit: 100 });
    const c = await ready();
    const body = `Subject: big\r\n\r\n${"x".repeat(500)}\r\n`;
    expect((await transaction(c, "a@example.org", ["b@contoso.com"], body)).end?.code).toBe(250);
    const m = h.t.queue.peek()[0]!.body;
    expect(m.body).toEqual({ storeKey: m.id });
    expect(Buffer.from(h.t.messageStore.bodies.get(m.id)!).toString("latin1").endsWith(body)).toBe(
      true,
    );
  });

  test("bare LF: 554 5.6.0, nothing queued, and the smuggled commands after it are not run", async () => {
    await start([receiveConnector("Default"), contoso]);
    const c = await ready();
    const smuggled =
      "Subject: a\r\n\r\nfirst\r\n.\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@contoso.com>\r\nDATA\r\n\r\nspoof\r\n";
    const r = await transaction(c, "a@example.org", ["b@contoso.com"], smuggled);
    expect(r.end?.text).toBe(
      "554 5.6.0 Bare LF or CR in message data is not allowed; use CRLF line endings",
    );
    expect(h.t.queue.size).toBe(0);
    // The session is in a clean state: the next command is the client's, not the smuggled MAIL's.
    expect((await c.command("NOOP")).code).toBe(250);
    expect((await transaction(c, "a@example.org", ["b@contoso.com"], MESSAGE)).end?.code).toBe(250);
    expect(h.t.queue.peek().map((m) => m.body.envelope.mailFrom)).toEqual(["a@example.org"]);
  });

  test("bare CR: 554 5.6.0", async () => {
    await start([receiveConnector("Default"), contoso]);
    const c = await ready();
    const r = await transaction(
      c,
      "a@example.org",
      ["b@contoso.com"],
      "Subject: a\r\n\r\nx\ry\r\n",
    );
    expect(r.end?.text).toMatch(/^554 5\.6\.0 /);
  });

  test("a message over maxMessageSize without a SIZE declaration: 552 5.3.4 after the final dot", async () => {
    await start([receiveConnector("Default", { maxMessageSize: 1000 }), contoso]);
    const c = await ready();
    const r = await transaction(
      c,
      "a@example.org",
      ["b@contoso.com"],
      `Subject: a\r\n\r\n${"y".repeat(2000)}\r\n`,
    );
    expect(r.end?.text).toBe("552 5.3.4 Message size exceeds fixed maximum message size");
    expect(h.t.queue.size).toBe(0);
  });

  test("more Received fields than maxHopCount: 554 5.4.6", async () => {
    await start([receiveConnector("Default", { maxHopCount: 2 }), contoso]);
    const c = await ready();
    const hops = "Received: from a by b; Tue, 24 Nov 2026 10:00:00 +0000\r\n".repeat(3);
    const r = await transaction(
      c,
      "a@example.org",
      ["b@contoso.com"],
      `${hops}Subject: loop\r\n\r\nx\r\n`,
    );
    expect(r.end?.text).toBe("554 5.4.6 Hop count exceeded - possible mail loop");
    expect(h.t.queue.size).toBe(0);
  });

  test.each([
    ["inline", 1_000_000],
    ["claim check", 10],
  ])(
    "a queue failure (%s body): 451 4.3.0, nothing queued, no body left behind",
    async (_kind, inlineBodyLimit) => {
      await start([receiveConnector("Default"), contoso], { inlineBodyLimit });
      h.t.queue.failSends = new Error("queue unavailable");
      const c = await ready();
      const r = await transaction(c, "a@example.org", ["b@contoso.com"], MESSAGE);
      expect(r.end?.text).toBe("451 4.3.0 Could not queue the message; try again later");
      expect(h.t.queue.size).toBe(0);
      expect(h.t.messageStore.bodies.size).toBe(0);
      expect(h.t.logs).toContainEqual(
        expect.objectContaining({ level: "error", message: "could not queue message" }),
      );
      // The client retries once the queue is back, in the same session.
      h.t.queue.failSends = undefined;
      expect((await transaction(c, "a@example.org", ["b@contoso.com"], MESSAGE)).end?.code).toBe(
        250,
      );
      expect(h.t.queue.size).toBe(1);
    },
  );
});

describe("connection limits and protocol errors", () => {
  test("maxInboundConnectionPerSource: the next connection from that address gets 421 4.3.2", async () => {
    await start([receiveConnector("Default", { maxInboundConnectionPerSource: 2 })]);
    const first = await open("127.0.0.1");
    await open("127.0.0.1");
    const third = await open("127.0.0.1");
    expect(third.greeting.text).toMatch(
      /^421 4\.3\.2 The maximum number of concurrent connections from your address/,
    );
    await third.client.closed();
    expect((await open("127.0.0.7")).greeting.code).toBe(220);
    // A session that ends gives its slot back.
    first.client.write("QUIT\r\n");
    await first.client.closed();
    await expect.poll(async () => (await open("127.0.0.1")).greeting.code).toBe(220);
  });

  test("maxInboundConnection: 421 4.3.2 whatever the source", async () => {
    await start([receiveConnector("Default", { maxInboundConnection: 2 })]);
    await open("127.0.0.1");
    await open("127.0.0.2");
    const third = await open("127.0.0.3");
    expect(third.greeting.text).toMatch(
      /^421 4\.3\.2 The maximum number of concurrent server connections/,
    );
  });

  test("after maxProtocolErrors bad commands the next one gets 421 4.7.0 and the connection closes", async () => {
    await start([receiveConnector("Default", { maxProtocolErrors: 3 })]);
    const c = await ready();
    expect((await c.command("FOO")).text).toBe("500 5.5.2 Error: command not recognized");
    expect((await c.command("MAIL FROM:bad")).code).toBe(501);
    expect((await c.command("RCPT TO:<a@contoso.com>")).code).toBe(503);
    expect((await c.command("BAR")).text).toBe(
      "421 4.7.0 Too many errors on this connection, closing transmission channel",
    );
    await c.closed();
  });

  test("policy refusals are not protocol errors", async () => {
    await start([receiveConnector("Default", { maxProtocolErrors: 1 }), contoso]);
    const c = await ready();
    await c.command("MAIL FROM:<a@example.org>");
    for (let i = 0; i < 3; i++)
      expect((await c.command(`RCPT TO:<x${i}@fabrikam.com>`)).code).toBe(550);
    expect((await c.command("NOOP")).code).toBe(250);
  });
});

describe("greeting delay", () => {
  test("with greetingDelay a client that talks before the greeting is dropped", async () => {
    await start([receiveConnector("Default", { greetingDelay: 2 })]);
    const c = await RawSmtpClient.connect({ host: "127.0.0.1", port: h.t.port() });
    h.track(c);
    c.write("EHLO early.example\r\n");
    expect((await c.read()).text).toMatch(/^421 .*You talk too soon/);
  });

  test("with greetingDelay 0 (submission) a client may pipeline its EHLO right after connecting", async () => {
    await start([receiveConnector("Default", { greetingDelay: 0 })]);
    const c = await RawSmtpClient.connect({ host: "127.0.0.1", port: h.t.port() });
    h.track(c);
    c.write("EHLO early.example\r\n");
    expect((await c.read()).code).toBe(220);
    expect((await c.read()).code).toBe(250);
  });
});
