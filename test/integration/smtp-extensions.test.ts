// SMTPUTF8, 8BITMIME downgrade and the DSN extension over real sockets: the listener takes the parameters, route and deliver
// (the Lambda handlers on memory queues) carry them to scripted next hops, and the DSNs the relay makes say what was asked.
import { simpleParser } from "mailparser";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { newMessageId } from "#core/ids.ts";
import type { Envelope, SubmittedMessage } from "#core/message.ts";
import { parseReport } from "#test/support/dsn.ts";
import { acceptedDomain, receiveConnector, useTestListener } from "#test/support/listener.ts";
import { rawOf, sendConnector, TestRelay } from "#test/support/relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import { submittedMessage } from "#test/support/submitted.ts";

let modern: Sink;
let plain: Sink;
let withDsn: Sink;

beforeAll(async () => {
  modern = await startSink();
  plain = await startSink({ hide: ["SMTPUTF8", "8BITMIME"] });
  withDsn = await startSink({ offer: ["DSN"] });
});
afterAll(async () => {
  await Promise.all([modern, plain, withDsn].map((s) => s.close()));
});
afterEach(() => {
  for (const s of [modern, plain, withDsn]) {
    s.script = {};
    s.received.length = 0;
  }
});

function relayTo(sink: Sink): TestRelay {
  return new TestRelay({
    records: [
      sendConnector({
        name: "Smart host",
        dnsRoutingEnabled: false,
        smartHosts: [`127.0.0.1:${sink.port}`],
      }),
    ],
  });
}

/** Queues a message as the listener does, with the envelope's extension fields. */
async function submit(
  relay: TestRelay,
  envelope: Envelope,
  raw: string,
): Promise<SubmittedMessage> {
  const message = submittedMessage({
    id: newMessageId(relay.clock.now()),
    receivedAt: relay.clock.now(),
    envelope,
    raw,
  });
  await relay.submission.send(message);
  return message;
}

const ASCII =
  "From: <app@contoso.test>\r\nTo: <user@fabrikam.test>\r\nSubject: Report\r\nMessage-ID: <r1@contoso.test>\r\n\r\nHello.\r\n";

async function reports(relay: TestRelay) {
  return Promise.all(relay.reports().map(async (m) => parseReport(await rawOf(relay, m))));
}

describe("the listener offers SMTPUTF8 and DSN and queues what the client asked for", () => {
  const h = useTestListener();

  test("UTF-8 addresses with SMTPUTF8, DSN parameters checked, kept in the envelope; then delivered to a UTF-8 next hop", async () => {
    await h.start([
      receiveConnector("Apps", {
        remoteIpRanges: ["127.0.0.0/24"],
        grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
      }),
      acceptedDomain("contoso.test"),
    ]);
    const { client } = await h.open();
    const ehlo = await client.command("EHLO app.example");
    expect(ehlo.lines).toEqual(expect.arrayContaining(["250-SMTPUTF8", "250-DSN"]));

    const noParam = await client.command("MAIL FROM:<jörg@contoso.test>");
    expect(noParam.text).toMatch(/^553 5\.6\.7 /);
    const bad = await client.command("MAIL FROM:<app@contoso.test> ENVID=ü");
    expect(bad.code).toBe(501);
    const mail = await client.command(
      "MAIL FROM:<jörg@contoso.test> SMTPUTF8 RET=HDRS ENVID=QQ+2B314159",
    );
    expect(mail.code).toBe(250);
    const never = await client.command("RCPT TO:<a@fabrikam.test> NOTIFY=NEVER,SUCCESS");
    expect(never.text).toMatch(/^501 5\.5\.4 /);
    const rcpt = await client.command(
      "RCPT TO:<用户@例子.测试> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+2By@example.test",
    );
    expect(rcpt.code).toBe(250);
    expect((await client.command("RCPT TO:<plain@fabrikam.test>")).code).toBe(250);
    expect((await client.command("DATA")).code).toBe(354);
    client.write(
      "From: Jörg <jörg@contoso.test>\r\nTo: <用户@例子.测试>\r\nSubject: Grüße\r\n\r\nHallo.\r\n.\r\n",
    );
    expect((await client.read()).code).toBe(250);

    const [queued] = h.t.queue.peek().map((m) => m.body);
    expect(queued?.envelope).toEqual({
      mailFrom: "jörg@contoso.test",
      rcptTo: ["用户@xn--fsqu00a.xn--0zwm56d", "plain@fabrikam.test"],
      smtpUtf8: true,
      dsn: { ret: "HDRS", envid: "QQ+314159" },
      rcptDsn: {
        "用户@xn--fsqu00a.xn--0zwm56d": {
          notify: ["SUCCESS", "FAILURE"],
          orcpt: "rfc822;x+y@example.test",
        },
      },
    });

    // The same submission through route and deliver to a next hop that offers SMTPUTF8 and DSN.
    const relay = relayTo(withDsn);
    await relay.submission.send(queued!);
    await relay.pump();
    // Recipients whose NOTIFY/ORCPT differ go in separate transactions (one set per transaction).
    // smtp-server shows the IDN decoded again; the relay sent the A-label.
    const got = withDsn.received.find((m) => m.rcptTo.includes("用户@例子.测试"))!;
    expect(got.smtpUtf8).toBe(true);
    expect(got.dsn).toEqual({ ret: "HDRS", envid: "QQ+314159" });
    expect(got.rcptDsn[0]).toEqual({
      notify: ["SUCCESS", "FAILURE"],
      orcpt: "rfc822;x+y@example.test",
    });
    expect((await simpleParser(got.raw)).subject).toBe("Grüße");
    // NOTIFY=SUCCESS was passed on with the DSN-capable hop: it reports, the relay does not.
    expect(await reports(relay)).toEqual([]);
  });
});

describe("SMTPUTF8 and 8BITMIME towards the next hop", () => {
  test("a message that needs SMTPUTF8 bounces 5.6.7 at a next hop without it", async () => {
    const relay = relayTo(plain);
    const m = await submit(
      relay,
      { mailFrom: "app@contoso.test", rcptTo: ["jörg@fabrikam.test"], smtpUtf8: true },
      ASCII,
    );
    await relay.runRoute();
    await relay.runDeliver();
    expect(plain.received).toEqual([]);
    expect((await relay.row(m.id, "jörg@fabrikam.test"))?.status).toBe("Failed");
    const [ndr] = await reports(relay);
    expect(ndr?.perRecipient[0]).toMatchObject({ action: "failed", status: "5.6.7" });
  });

  test("8-bit content goes to a next hop without 8BITMIME as 7-bit bytes that decode to the same text", async () => {
    const relay = relayTo(plain);
    const text = "Grüße aus Köln — 10 € für Café.\r\n";
    await submit(
      relay,
      { mailFrom: "app@contoso.test", rcptTo: ["user@fabrikam.test"] },
      `From: <app@contoso.test>\r\nTo: <user@fabrikam.test>\r\nSubject: Report\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}`,
    );
    await relay.pump();
    const got = plain.received[0]!;
    expect(got.bodyType).toBe("7bit");
    expect(got.raw.every((b) => b < 0x80)).toBe(true);
    expect((await simpleParser(got.raw)).text).toBe(text.replace("\r\n", "\n"));
  });

  test("to a next hop with 8BITMIME the bytes go unchanged with BODY=8BITMIME", async () => {
    const relay = relayTo(modern);
    const raw = `${ASCII.replace("Hello.", "Grüße.")}`;
    await submit(relay, { mailFrom: "app@contoso.test", rcptTo: ["user@fabrikam.test"] }, raw);
    await relay.pump();
    expect(modern.received[0]?.bodyType).toBe("8bitmime");
    expect(modern.received[0]?.raw.toString()).toContain("Grüße.");
  });
});

describe("the DSN extension (RFC 3461)", () => {
  test("NOTIFY=NEVER: no NDR after a 550", async () => {
    const relay = relayTo(plain);
    plain.script = { rcpt: { "user@fabrikam.test": "550 5.1.1 User unknown" } };
    const m = await submit(
      relay,
      {
        mailFrom: "no-reply@contoso.test",
        rcptTo: ["user@fabrikam.test"],
        rcptDsn: { "user@fabrikam.test": { notify: [] } },
      },
      ASCII,
    );
    await relay.runRoute();
    await relay.runDeliver();
    expect((await relay.row(m.id, "user@fabrikam.test"))?.status).toBe("Failed");
    expect(relay.reports()).toEqual([]);
  });

  test("NOTIFY=SUCCESS to a next hop without DSN: a relay DSN with ENVID and ORCPT", async () => {
    const relay = relayTo(plain);
    await submit(
      relay,
      {
        mailFrom: "app@contoso.test",
        rcptTo: ["user@fabrikam.test", "other@fabrikam.test"],
        dsn: { envid: "QQ314159" },
        rcptDsn: {
          "user@fabrikam.test": { notify: ["SUCCESS"], orcpt: "rfc822;User@Fabrikam.test" },
        },
      },
      ASCII,
    );
    await relay.runRoute();
    await relay.runDeliver();
    expect(plain.received.flatMap((m) => m.rcptTo).sort()).toEqual([
      "other@fabrikam.test",
      "user@fabrikam.test",
    ]);
    const all = await reports(relay);
    expect(all).toHaveLength(1);
    const dsn = all[0]!;
    expect(dsn.subject).toBe("Relayed: Report");
    expect(dsn.perMessage["original-envelope-id"]).toBe("QQ314159");
    expect(dsn.perRecipient).toHaveLength(1);
    expect(dsn.perRecipient[0]).toMatchObject({
      "original-recipient": "rfc822; User@Fabrikam.test",
      "final-recipient": "rfc822; user@fabrikam.test",
      action: "relayed",
      status: "2.0.0",
    });
  });

  test("NOTIFY=SUCCESS to a next hop with DSN: parameters passed on per recipient, no second notice", async () => {
    const relay = relayTo(withDsn);
    await submit(
      relay,
      {
        mailFrom: "app@contoso.test",
        rcptTo: ["user@fabrikam.test", "other@fabrikam.test"],
        dsn: { ret: "FULL", envid: "QQ314159" },
        rcptDsn: {
          "user@fabrikam.test": {
            notify: ["SUCCESS", "FAILURE"],
            orcpt: "rfc822;user@fabrikam.test",
          },
          "other@fabrikam.test": { notify: [] },
        },
      },
      ASCII,
    );
    await relay.pump();
    expect(withDsn.received).toHaveLength(2);
    const byRcpt = Object.fromEntries(withDsn.received.map((m) => [m.rcptTo[0], m]));
    expect(byRcpt["user@fabrikam.test"]?.rcptDsn[0]).toEqual({
      notify: ["SUCCESS", "FAILURE"],
      orcpt: "rfc822;user@fabrikam.test",
    });
    expect(byRcpt["other@fabrikam.test"]?.rcptDsn[0]).toEqual({ notify: ["NEVER"] });
    expect(byRcpt["user@fabrikam.test"]?.dsn).toEqual({ ret: "FULL", envid: "QQ314159" });
    expect(relay.reports()).toEqual([]);
  });

  test("RET=HDRS returns the headers only; RET=FULL the whole message", async () => {
    for (const [ret, part] of [
      ["HDRS", "text/rfc822-headers"],
      ["FULL", "message/rfc822"],
    ] as const) {
      const relay = relayTo(plain);
      plain.script = { rcpt: { "user@fabrikam.test": "550 5.1.1 User unknown" } };
      await submit(
        relay,
        { mailFrom: "app@contoso.test", rcptTo: ["user@fabrikam.test"], dsn: { ret } },
        ASCII,
      );
      await relay.runRoute();
      await relay.runDeliver();
      const [ndr] = await reports(relay);
      expect(ndr?.partTypes).toEqual(["text/plain", "message/delivery-status", part]);
      const raw = (await rawOf(relay, relay.reports()[0]!)).toString();
      if (ret === "FULL") expect(raw).toContain("\r\n\r\nHello.\r\n");
      else expect(raw).not.toContain("Hello.");
    }
  });
});
