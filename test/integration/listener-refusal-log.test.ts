// Every refusal is logged once at info with its code, connector, client, user and rule, whatever the connector's protocol logging.
import { describe, expect, test } from "vitest";
import { hashPassword } from "#core/auth/password.ts";
import { acceptedDomain, receiveConnector, useTestListener } from "#test/support/listener.ts";
import { plainToken, transaction } from "#test/support/smtp-client.ts";

const h = useTestListener();
const MESSAGE =
  "From: printer@contoso.com\r\nSubject: Scan\r\nMessage-ID: <s1@printer>\r\n\r\nScan\r\n";
const refusals = () => h.t.logs.filter((l) => l.message === "refused");

describe("the refusal log", () => {
  test("a relay-denied RCPT gives one info line: 550 5.7.54, connector, client IP and rule", async () => {
    // Protocol logging off: the answer must come from the normal log.
    await h.start([
      receiveConnector("Printers", { protocolLogging: "None" }),
      acceptedDomain("contoso.com"),
    ]);
    const { client } = await h.open({ from: "127.0.0.5" });
    await client.command("EHLO printer.contoso.com");
    const r = await transaction(
      client,
      "printer@contoso.com",
      ["ops@contoso.com", "ann@fabrikam.com"],
      MESSAGE,
    );
    expect(r.rcpt[1]?.text).toMatch(/^550 5\.7\.54 /);
    await client.command("QUIT");

    expect(refusals()).toEqual([
      {
        level: "info",
        message: "refused",
        fields: {
          code: 550,
          enhanced: "5.7.54",
          connector: "Printers",
          client: "127.0.0.5",
          rule: "recipient domain fabrikam.com is not accepted and the session lacks AcceptAnyRecipient",
          session: expect.any(String),
        },
      },
    ]);
    expect(h.t.protocol).toEqual([]);
  });

  test("a connection no connector covers is logged once with its 421 and why", async () => {
    await h.start([receiveConnector("Only .2", { remoteIpRanges: ["127.0.0.2"] })]);
    const { client, greeting } = await h.open({ from: "127.0.0.9" });
    expect(greeting.code).toBe(421);
    await client.closed();

    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]?.fields).toMatchObject({
      code: 421,
      enhanced: "4.3.2",
      client: "127.0.0.9",
      rule: "no receive connector",
    });
  });

  test("smtp-server's own replies are refusals too: an unknown command", async () => {
    await h.start([receiveConnector("Default", { protocolLogging: "None" })]);
    const { client } = await h.open();
    expect((await client.command("FROB")).code).toBe(500);

    expect(refusals().map((l) => l.fields)).toEqual([
      expect.objectContaining({
        code: 500,
        enhanced: "5.5.2",
        connector: "Default",
        rule: "SMTP protocol",
      }),
    ]);
  });

  test("a refusal to an authenticated user names the user; the failed AUTH before it is logged too", async () => {
    const passwordHash = await hashPassword("correct horse battery staple");
    await h.start([
      receiveConnector("Client", {
        bindings: ["127.0.0.1:587"],
        permissionGroups: ["Users"],
        protocolLogging: "None",
      }),
      acceptedDomain("contoso.com"),
      { kind: "SmtpUser", name: "billing", passwordHash, allowedSenders: ["billing@contoso.com"] },
    ]);
    const { client } = await h.open({ binding: "127.0.0.1:587" });
    await client.command("EHLO app.example");
    await client.startTls(h.t.ca);
    await client.command("EHLO app.example");
    expect((await client.command(`AUTH PLAIN ${plainToken("billing", "wrong")}`)).code).toBe(535);
    await client.command(`AUTH PLAIN ${plainToken("billing", "correct horse battery staple")}`);
    expect((await client.command("MAIL FROM:<ceo@contoso.com>")).text).toMatch(/^550 5\.7\.1 /);

    expect(refusals().map((l) => l.fields)).toEqual([
      expect.objectContaining({
        code: 535,
        enhanced: "5.7.3",
        rule: "PLAIN authentication failed",
      }),
      expect.objectContaining({
        code: 550,
        enhanced: "5.7.1",
        connector: "Client",
        user: "billing",
        rule: "sender ceo@contoso.com not in allowedSenders",
      }),
    ]);
    // The attempted name is not logged with a failed AUTH: users type passwords into it.
    expect(refusals()[0]?.fields).not.toHaveProperty("user");
  });
});
