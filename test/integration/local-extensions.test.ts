// Local mode (`npm start` as a child process) with SMTPUTF8, 8BITMIME and DSN: nodemailer in, next hops that offer or lack them out.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import nodemailer from "nodemailer";
import { afterEach, expect, test } from "vitest";
import { parseReport } from "#test/support/dsn.ts";
import {
  appsConnector,
  freePort,
  startRelayProcess,
  waitFor,
  writeRecords,
} from "#test/support/relay-process.ts";
import { startSink } from "#test/support/sink.ts";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

test("5.6.7 NDR from a hop without SMTPUTF8, 7-bit conversion for one without 8BITMIME, DSN parameters to a hop with DSN", async () => {
  const dir = await mkdtemp(join(tmpdir(), "relay-ext-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const plain = await startSink({ hide: ["SMTPUTF8", "8BITMIME"] });
  const modern = await startSink({ offer: ["DSN"] });
  cleanup.push(
    () => plain.close(),
    () => modern.close(),
  );
  const port = await freePort();
  await writeRecords(dir, [
    appsConnector(port),
    {
      kind: "SendConnector",
      name: "Plain",
      addressSpaces: [{ domain: "*", cost: 1 }],
      dnsRoutingEnabled: false,
      smartHosts: [`127.0.0.1:${plain.port}`],
    },
    {
      kind: "SendConnector",
      name: "Modern",
      addressSpaces: [{ domain: "fabrikam.com", cost: 1 }],
      dnsRoutingEnabled: false,
      smartHosts: [`127.0.0.1:${modern.port}`],
    },
  ]);
  const relay = startRelayProcess(dir);
  cleanup.push(() => relay.stop());
  await relay.ready;
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port, ignoreTLS: true });

  // 1. UTF-8 recipient behind a hop without SMTPUTF8: nothing reaches it, the sender gets 5.6.7.
  await transport.sendMail({
    envelope: { from: "app@example.com", to: ["jörg@example.net"] },
    raw: "From: app@example.com\r\nTo: jörg@example.net\r\nSubject: utf8\r\n\r\nhi\r\n",
  });
  await waitFor("the NDR", () => plain.received.some((m) => m.mailFrom === ""));
  const ndr = plain.received.find((m) => m.mailFrom === "")!;
  expect(ndr.rcptTo).toEqual(["app@example.com"]);
  expect((await parseReport(ndr.raw)).perRecipient[0]).toMatchObject({ status: "5.6.7" });
  expect(plain.received.filter((m) => m.mailFrom !== "")).toEqual([]);

  // 2. 8-bit body to the hop without 8BITMIME: 7-bit bytes, same text.
  const text = "Grüße aus Köln.\r\n";
  await transport.sendMail({
    envelope: { from: "app@example.com", to: ["someone@example.net"] },
    raw: `From: app@example.com\r\nTo: someone@example.net\r\nSubject: 8bit\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}`,
  });
  await waitFor("the converted message", () =>
    plain.received.some((m) => m.rcptTo.includes("someone@example.net")),
  );
  const converted = plain.received.find((m) => m.rcptTo.includes("someone@example.net"))!;
  expect(converted.raw.every((b) => b < 0x80)).toBe(true);
  expect((await simpleParser(converted.raw)).text).toBe("Grüße aus Köln.\n");

  // 3. NOTIFY=SUCCESS, ENVID and ORCPT to the hop with DSN: passed on; it reports, the relay does not.
  await transport.sendMail({
    envelope: { from: "app@example.com", to: ["b@fabrikam.com"] },
    raw: "From: app@example.com\r\nTo: b@fabrikam.com\r\nSubject: dsn\r\n\r\nhi\r\n",
    dsn: {
      id: "order-1234",
      return: "headers",
      notify: ["success", "failure"],
      recipient: "b@fabrikam.com",
    },
  });
  await waitFor("delivery to the DSN hop", () => modern.received.length === 1);
  expect(modern.received[0]).toMatchObject({
    dsn: { ret: "HDRS", envid: "order-1234" },
    rcptDsn: [{ notify: ["SUCCESS", "FAILURE"], orcpt: "rfc822;b@fabrikam.com" }],
  });
  await new Promise((r) => setTimeout(r, 1500));
  expect(plain.received.filter((m) => m.mailFrom === "").map((m) => m.rcptTo)).toHaveLength(1);
});
