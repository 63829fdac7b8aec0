// STARTTLS, implicit TLS and AUTH on the listener: raw sockets for exact replies, nodemailer for the client's view.
import nodemailer from "nodemailer";
import { beforeAll, describe, expect, test } from "vitest";
import { hashPassword } from "#core/auth/password.ts";
import type { InlineBody } from "#core/message.ts";
import { decodeInline } from "#core/usecases/body.ts";
import { acceptedDomain, receiveConnector, useTestListener } from "#test/support/listener.ts";
import { plainToken, transaction } from "#test/support/smtp-client.ts";

const PASSWORD = "correct horse battery staple";
let users: Record<string, unknown>[];
beforeAll(async () => {
  const hash = await hashPassword(PASSWORD);
  users = [
    { kind: "SmtpUser", name: "scanner", passwordHash: hash },
    {
      kind: "SmtpUser",
      name: "billing",
      passwordHash: hash,
      allowedSenders: ["billing@contoso.com"],
    },
  ];
});

const b64 = (s: string) => Buffer.from(s).toString("base64");
const MESSAGE = "Subject: scan\r\n\r\nattached\r\n";

const h = useTestListener();

/** Exchange's two front-end connectors: Default on 25 (anonymous) and Client on 587 / 465 (AUTH). */
function records(client: Record<string, unknown> = {}) {
  return [
    receiveConnector("Default", { bindings: ["127.0.0.1:25"] }),
    receiveConnector("Client", {
      bindings: ["127.0.0.1:587"],
      permissionGroups: ["Users"],
      requireTls: true,
      ...client,
    }),
    receiveConnector("Client TLS", {
      bindings: ["127.0.0.1:465"],
      implicitTls: true,
      permissionGroups: ["Users"],
    }),
    acceptedDomain("contoso.com"),
    ...users,
  ];
}

const open = (binding: string, tls = false) => h.open({ binding, tls });

async function startTlsSession(binding = "127.0.0.1:587") {
  const { client } = await open(binding);
  await client.command("EHLO app.example");
  expect((await client.startTls(h.t.ca)).text).toBe("220 2.0.0 Ready to start TLS");
  return client;
}

describe("before TLS", () => {
  test("EHLO offers STARTTLS and never AUTH", async () => {
    await h.start(records({ requireTls: false, authMechanisms: ["Tls", "BasicAuth"] }));
    const { client } = await open("127.0.0.1:587");
    const ehlo = await client.command("EHLO app.example");
    expect(ehlo.lines).toContain("250-STARTTLS");
    expect(ehlo.lines.some((l) => /AUTH/.test(l))).toBe(false);
  });

  test("AUTH on a cleartext channel: 538 5.7.11, even where the connector allows BasicAuth", async () => {
    await h.start(records({ requireTls: false, authMechanisms: ["Tls", "BasicAuth"] }));
    const { client } = await open("127.0.0.1:587");
    await client.command("EHLO app.example");
    expect((await client.command(`AUTH PLAIN ${plainToken("scanner", PASSWORD)}`)).text).toBe(
      "538 5.7.11 Encryption required for requested authentication mechanism",
    );
  });

  test("requireTls: AUTH and MAIL before STARTTLS get 530 5.7.0", async () => {
    await h.start(records());
    const { client } = await open("127.0.0.1:587");
    await client.command("EHLO app.example");
    expect((await client.command("AUTH LOGIN")).text).toBe(
      "530 5.7.0 Must issue a STARTTLS command first",
    );
    expect((await client.command("MAIL FROM:<scanner@contoso.com>")).text).toBe(
      "530 5.7.0 Must issue a STARTTLS command first",
    );
  });

  test("a connector without Tls offers neither STARTTLS nor AUTH; AUTH gets 503 5.5.1", async () => {
    await h.start([
      ...records(),
      receiveConnector("Plain", { bindings: ["127.0.0.1:2525"], authMechanisms: ["None"] }),
    ]);
    const { client } = await open("127.0.0.1:2525");
    const ehlo = await client.command("EHLO app.example");
    expect(ehlo.lines.some((l) => /STARTTLS|AUTH/.test(l))).toBe(false);
    expect((await client.command("STARTTLS")).code).toBe(500);
    expect((await client.command("AUTH PLAIN")).text).toBe(
      "503 5.5.1 Authentication not enabled on this connector",
    );
  });
});

describe("after STARTTLS", () => {
  test("AUTH PLAIN, then relay for the user, queued with the user and TLS in its origin", async () => {
    await h.start(records());
    const c = await startTlsSession();
    const ehlo = await c.command("EHLO app.example");
    expect(ehlo.lines).toContain("250-AUTH PLAIN LOGIN");
    expect(ehlo.lines.some((l) => l.includes("STARTTLS"))).toBe(false);
    expect((await c.command(`AUTH PLAIN ${plainToken("scanner", PASSWORD)}`)).text).toBe(
      "235 2.7.0 Authentication successful",
    );
    const r = await transaction(c, "scanner@contoso.com", ["someone@fabrikam.com"], MESSAGE);
    expect(r.end?.code).toBe(250);
    const m = h.t.queue.peek()[0]!.body;
    expect(m.origin).toMatchObject({ receiveConnector: "Client", authUser: "scanner", tls: true });
    const raw = Buffer.from(decodeInline(m.body as InlineBody)).toString();
    expect(raw).toMatch(/ with ESMTPSA id .*\r\n\t\(version=TLSv1\.[23] cipher=/);
  });

  test("AUTH LOGIN step by step", async () => {
    await h.start(records());
    const c = await startTlsSession();
    await c.command("EHLO app.example");
    expect((await c.command("AUTH LOGIN")).text).toBe("334 VXNlcm5hbWU6");
    expect((await c.command(b64("scanner"))).text).toBe("334 UGFzc3dvcmQ6");
    expect((await c.command(b64(PASSWORD))).text).toBe("235 2.7.0 Authentication successful");
  });

  test("an anonymous session on the Client connector may not submit: 530 5.7.57", async () => {
    await h.start(records());
    const c = await startTlsSession();
    await c.command("EHLO app.example");
    expect((await c.command("MAIL FROM:<scanner@contoso.com>")).text).toMatch(/^530 5\.7\.57 /);
  });

  test("a user sending as someone outside allowedSenders: 550 5.7.1", async () => {
    await h.start(records());
    const c = await startTlsSession();
    await c.command("EHLO app.example");
    await c.command(`AUTH PLAIN ${plainToken("billing", PASSWORD)}`);
    expect((await c.command("MAIL FROM:<ceo@contoso.com>")).text).toBe(
      "550 5.7.1 Client does not have permissions to send as this sender",
    );
    expect((await c.command("MAIL FROM:<billing@contoso.com>")).code).toBe(250);
  });

  test("failed AUTH: 535 5.7.3 after the tarpit; past maxProtocolErrors 421 4.7.0 and close", async () => {
    await h.start(records({ maxProtocolErrors: 2, tarpitInterval: 0.05 }));
    const c = await startTlsSession();
    await c.command("EHLO app.example");
    const bad = `AUTH PLAIN ${plainToken("scanner", "wrong")}`;
    expect((await c.command(bad)).text).toBe("535 5.7.3 Authentication unsuccessful");
    expect((await c.command(bad)).text).toBe("535 5.7.3 Authentication unsuccessful");
    expect((await c.command(bad)).text).toBe(
      "421 4.7.0 Too many errors on this connection, closing transmission channel",
    );
    await c.closed();
  });

  test("an unknown user and a disabled user fail like a wrong password", async () => {
    const hash = await hashPassword(PASSWORD);
    await h.start([
      ...records(),
      { kind: "SmtpUser", name: "retired", passwordHash: hash, enabled: false },
    ]);
    const c = await startTlsSession();
    await c.command("EHLO app.example");
    for (const user of ["nobody", "retired"])
      expect((await c.command(`AUTH PLAIN ${plainToken(user, PASSWORD)}`)).code).toBe(535);
  });

  test("a session that went through STARTTLS gives its connection slot back when it ends", async () => {
    await h.start(records({ maxInboundConnectionPerSource: 1 }));
    const c = await startTlsSession();
    await c.command("EHLO app.example");
    expect((await open("127.0.0.1:587")).greeting.code).toBe(421);
    c.write("QUIT\r\n");
    await c.closed();
    await expect.poll(() => h.t.listener.sessionCount).toBe(0);
    expect((await open("127.0.0.1:587")).greeting.code).toBe(220);
  });

  test("the protocol log shows the session but no credential", async () => {
    await h.start(records());
    const c = await startTlsSession();
    await c.command("EHLO app.example");
    await c.command("AUTH LOGIN");
    await c.command(b64("scanner"));
    await c.command(b64(PASSWORD));
    await c.command(`AUTH PLAIN ${plainToken("scanner", PASSWORD)}`);
    const all = JSON.stringify(h.t.protocol);
    for (const secret of [PASSWORD, b64(PASSWORD), b64("scanner"), plainToken("scanner", PASSWORD)])
      expect(all).not.toContain(secret);
    const lines = h.t.protocol.map((e) => `${e.event} ${e.data}`);
    expect(lines).toContain("< AUTH LOGIN");
    expect(lines).toContain("< AUTH PLAIN ****");
    expect(lines).toContain("* authenticated as scanner (LOGIN)");
    expect(lines.some((l) => /^\* TLS TLSv1\.[23] /.test(l))).toBe(true);
  });
});

describe("implicit TLS (465)", () => {
  test("TLS from the first byte: no STARTTLS, AUTH offered at once", async () => {
    await h.start(records());
    const { client, greeting } = await open("127.0.0.1:465", true);
    expect(client.encrypted).toBe(true);
    expect(greeting.code).toBe(220);
    const ehlo = await client.command("EHLO app.example");
    expect(ehlo.lines).toContain("250-AUTH PLAIN LOGIN");
    expect(ehlo.lines.some((l) => l.includes("STARTTLS"))).toBe(false);
    await client.command(`AUTH PLAIN ${plainToken("scanner", PASSWORD)}`);
    expect(
      (await transaction(client, "scanner@contoso.com", ["x@fabrikam.com"], MESSAGE)).end?.code,
    ).toBe(250);
    expect(h.t.queue.peek()[0]?.body.origin).toMatchObject({
      receiveConnector: "Client TLS",
      tls: true,
    });
  });
});

describe("nodemailer", () => {
  test.each([
    ["STARTTLS on 587", "127.0.0.1:587", false],
    ["implicit TLS on 465", "127.0.0.1:465", true],
  ])("%s with AUTH delivers to the queue", async (_name, binding, secure) => {
    await h.start(records());
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: h.t.port(binding),
      secure,
      requireTLS: !secure,
      auth: { user: "scanner", pass: PASSWORD },
      tls: { ca: h.t.ca, servername: "localhost" },
    });
    const info = await transport.sendMail({
      from: "scanner@contoso.com",
      to: ["a@fabrikam.com", "b@contoso.com"],
      subject: "Scan 42",
      text: "see attachment",
    });
    transport.close();
    const m = h.t.queue.peek()[0]!.body;
    expect(info.response).toBe(`250 2.6.0 <${m.id}> Queued mail for delivery`);
    expect(m).toMatchObject({
      envelope: { mailFrom: "scanner@contoso.com", rcptTo: ["a@fabrikam.com", "b@contoso.com"] },
      subject: "Scan 42",
      internetMessageId: info.messageId,
      origin: { authUser: "scanner", tls: true },
    });
  });

  test("anonymous on port 25 to an accepted domain", async () => {
    await h.start(records());
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: h.t.port("127.0.0.1:25"),
      ignoreTLS: true,
    });
    await transport.sendMail({ from: "app@example.org", to: "ops@contoso.com", text: "hi" });
    transport.close();
    expect(h.t.queue.peek()[0]?.body.origin).toMatchObject({
      receiveConnector: "Default",
      tls: false,
    });
  });
});
