// Building the submission of one SMTP transaction: Received on top, envelope in routing form, origin as given.
import { expect, test } from "vitest";
import { buildSubmission } from "#listener/transaction.ts";

const base = {
  id: "20261124T160512Z-000000000001",
  receivedAt: new Date("2026-11-24T16:05:12Z"),
  body: Buffer.from("Subject: x\r\n\r\nbody\r\n"),
  facts: { receivedCount: 0 },
  byHost: "relay.contoso.com",
  helo: "app.contoso.com",
  protocol: "ESMTP",
  origin: {
    type: "smtp" as const,
    receiveConnector: "Default",
    clientIp: "10.0.0.5",
    clientHelo: "app.contoso.com",
    tls: false,
  },
};

test("internationalised domains, as smtp-server decodes them, are queued in their ASCII form", () => {
  const s = buildSubmission({
    ...base,
    mailFrom: "Info@Bücher.example",
    rcptTo: ["kunde@MÜNCHEN.example", "ops@contoso.com"],
  });
  expect(s.envelope).toEqual({
    mailFrom: "Info@xn--bcher-kva.example",
    rcptTo: ["kunde@xn--mnchen-3ya.example", "ops@contoso.com"],
  });
});

test("the null sender stays null; Received is the first field; no Message-ID means none is invented", () => {
  const s = buildSubmission({ ...base, mailFrom: "", rcptTo: ["ops@contoso.com"] });
  expect(s.envelope.mailFrom).toBe("");
  const text = s.body.toString("latin1");
  expect(
    text.startsWith("Received: from app.contoso.com ([10.0.0.5])\r\n\tby relay.contoso.com"),
  ).toBe(true);
  expect(text.endsWith("Subject: x\r\n\r\nbody\r\n")).toBe(true);
  expect(s).not.toHaveProperty("internetMessageId");
  expect(s).not.toHaveProperty("subject");
});
