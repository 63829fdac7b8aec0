// DKIM and 8-bit content over real sockets: route signs the 7-bit form (RFC 6376 §5.3), so a hop without 8BITMIME gets a signature that verifies (mailauth over loopback DNS).
import { simpleParser } from "mailparser";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { dkimDnsRecords } from "#core/dkim/dns-record.ts";
import { generateDkimKey } from "#core/dkim/keys.ts";
import { newMessageId } from "#core/ids.ts";
import type { DeliveryJob, Envelope } from "#core/message.ts";
import type { DkimSigningConfig } from "#core/records/dkim-signing-config.ts";
import { dkimSignatures, publish, verifyDkim } from "#test/support/dkim.ts";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";
import { sendConnector, TestRelay } from "#test/support/relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import { submittedMessage } from "#test/support/submitted.ts";

const SECRET = "dkim/contoso.test/s2025";
const pair = generateDkimKey("rsa", 1024);
const CONFIG: DkimSigningConfig = {
  kind: "DkimSigningConfig",
  domain: "contoso.test",
  enabled: true,
  keys: [{ selector: "s2025", keyType: "rsa", publicKey: pair.publicKey, secretName: SECRET }],
  retiredKeys: [],
};
const TEXT = "Grüße aus Zürich — the invoice is attached.\nZweite Zeile: ½ € ✓\n";

let plain: Sink;
let modern: Sink;
let dns: TestDnsServer;

beforeAll(async () => {
  plain = await startSink({ hide: ["SMTPUTF8", "8BITMIME"] });
  modern = await startSink();
  dns = await startDnsServer();
  publish(dns, dkimDnsRecords(CONFIG));
});
afterAll(async () => {
  await Promise.all([plain.close(), modern.close(), dns.close()]);
});
afterEach(() => {
  for (const s of [plain, modern]) {
    s.script = {};
    s.received.length = 0;
  }
});

function relayTo(sink: Sink, inlineBodyLimit?: number): TestRelay {
  return new TestRelay({
    records: [
      sendConnector({
        name: "Smart host",
        dnsRoutingEnabled: false,
        smartHosts: [`127.0.0.1:${sink.port}`],
      }),
      CONFIG,
    ],
    secrets: { [SECRET]: pair.privateKeyPem },
    dkim: true,
    ...(inlineBodyLimit ? { inlineBodyLimit } : {}),
  });
}

function mime(subject: string): string {
  return [
    "From: App <app@contoso.test>",
    "To: <user@fabrikam.test>",
    `Subject: ${subject}`,
    "Date: Mon, 2 Jun 2025 10:00:00 +0000",
    "Message-ID: <8bit@contoso.test>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    TEXT.replace(/\n/g, "\r\n"),
  ].join("\r\n");
}

/** Queues the message as the listener does (inline body). */
async function submit(relay: TestRelay, raw: string, envelope?: Partial<Envelope>) {
  const message = submittedMessage({
    id: newMessageId(relay.clock.now()),
    receivedAt: relay.clock.now(),
    envelope: { mailFrom: "app@contoso.test", rcptTo: ["user@fabrikam.test"], ...envelope },
    raw,
    clientHelo: "app",
  });
  await relay.submission.send(message);
  return message;
}

const is7bit = (raw: Buffer) => raw.every((b) => b < 0x80);

describe("an 8-bit body is signed in its 7-bit form", () => {
  test.each([
    ["without 8BITMIME", () => plain],
    ["with 8BITMIME", () => modern],
  ])("a hop %s gets quoted-printable that verifies and decodes to the text", async (_, sink) => {
    const relay = relayTo(sink());
    await submit(relay, mime("Invoice"));
    await relay.pump();
    const [got] = sink().received;
    const raw = got?.raw ?? Buffer.alloc(0);
    expect(dkimSignatures(raw)).toHaveLength(1);
    expect(is7bit(raw)).toBe(true);
    expect(raw.toString("latin1")).toMatch(/^Content-Transfer-Encoding: quoted-printable\r$/m);
    expect(await verifyDkim(raw, dns)).toEqual([
      expect.objectContaining({ domain: "contoso.test", selector: "s2025", result: "pass" }),
    ]);
    expect((await simpleParser(raw)).text).toBe(TEXT);
  });

  test("claim-checked and deferred once: the retry sends the very bytes signed, then the body is dropped", async () => {
    const relay = relayTo(plain, 128);
    const message = await submit(relay, mime("Stored invoice"));
    plain.script = { data: "451 4.3.0 Try again later" };
    await relay.runRoute();
    const [job] = relay.delivery.peek().map((m) => m.body as DeliveryJob);
    if (!job || !("storeKey" in job.body)) throw new Error("expected a claim-checked job");
    const stored = Buffer.from(await relay.messages.get(job.body.storeKey));
    expect(is7bit(stored)).toBe(true);
    await relay.runDeliver();
    expect(plain.received).toEqual([]);
    plain.script = {};
    relay.advance(3600);
    await relay.pump();
    const raw = plain.received[0]?.raw ?? Buffer.alloc(0);
    expect(raw.equals(Buffer.concat([Buffer.from(job.dkimSignatures ?? ""), stored]))).toBe(true);
    expect(await verifyDkim(raw, dns)).toEqual([expect.objectContaining({ result: "pass" })]);
    expect((await relay.row(message.id, "user@fabrikam.test"))?.status).toBe("Delivered");
    await expect(relay.messages.get(job.body.storeKey)).rejects.toThrow();
  });
});

describe("what cannot or need not be made 7-bit is signed as it is", () => {
  test("an 8-bit header field: a hop with 8BITMIME gets it signed; one without bounces it 5.6.3", async () => {
    const toModern = relayTo(modern);
    await submit(toModern, mime("Grüße"));
    await toModern.pump();
    const raw = modern.received[0]?.raw ?? Buffer.alloc(0);
    expect(raw.toString("utf8")).toContain("Subject: Grüße\r\n");
    expect(raw.toString("utf8")).toContain("Content-Transfer-Encoding: 8bit\r\n");
    expect(await verifyDkim(raw, dns)).toEqual([expect.objectContaining({ result: "pass" })]);

    const toPlain = relayTo(plain);
    const m = await submit(toPlain, mime("Grüße"));
    await toPlain.pump();
    // The sink still gets the NDR (7-bit) for the sender: nothing for the recipient.
    expect(plain.received.flatMap((r) => r.rcptTo)).not.toContain("user@fabrikam.test");
    const row = await toPlain.row(m.id, "user@fabrikam.test");
    expect(row?.status).toBe("Failed");
    expect(row?.lastError).toMatch(/5\.6\.3/);
  });

  test("an SMTPUTF8 message keeps its 8-bit body (its hops take 8-bit) and verifies", async () => {
    const relay = relayTo(modern);
    await submit(relay, mime("Invoice"), {
      smtpUtf8: true,
      rcptTo: ["jörg@fabrikam.test"],
    });
    await relay.pump();
    const raw = modern.received[0]?.raw ?? Buffer.alloc(0);
    expect(modern.received[0]?.smtpUtf8).toBe(true);
    expect(raw.toString("utf8")).toContain(TEXT.replace(/\n/g, "\r\n"));
    expect(await verifyDkim(raw, dns)).toEqual([expect.objectContaining({ result: "pass" })]);
  });
});
