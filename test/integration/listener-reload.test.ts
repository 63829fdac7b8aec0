// Hot reload of records: new connections see edits, sessions in progress are never dropped, bad records are skipped.
import { expect, test } from "vitest";
import { acceptedDomain, receiveConnector, useTestListener } from "#test/support/listener.ts";
import { RawSmtpClient, transaction } from "#test/support/smtp-client.ts";

const h = useTestListener();

const MESSAGE = "Subject: a\r\n\r\nb\r\n";

const open = (binding = "127.0.0.1:25") => h.open({ binding });

async function greetingOf(binding = "127.0.0.1:25"): Promise<string> {
  const { client, greeting } = await open(binding);
  client.destroy();
  return greeting.text;
}

test("an edited connector greets new connections while a session in progress finishes under the old record", async () => {
  const t = await h.start([
    receiveConnector("Default", { banner: "before" }),
    acceptedDomain("contoso.com"),
  ]);
  const { client: old } = await open();
  await old.command("EHLO app.example");
  expect((await old.command("MAIL FROM:<a@example.org>")).code).toBe(250);
  await t.store.put(receiveConnector("Default", { banner: "after", maxRecipientsPerMessage: 1 }));
  await t.listener.reload();
  expect(await greetingOf()).toBe("220 after");
  // The session keeps the maxRecipientsPerMessage it started with.
  expect((await old.command("RCPT TO:<b@contoso.com>")).code).toBe(250);
  expect((await old.command("RCPT TO:<c@contoso.com>")).code).toBe(250);
  expect((await old.command("DATA")).code).toBe(354);
  old.write(`${MESSAGE}.\r\n`);
  expect((await old.read()).code).toBe(250);
});

test("without a call to reload, edits are picked up within the reload interval", async () => {
  const t = await h.start([receiveConnector("Default", { banner: "before" })], {
    reloadIntervalMs: 100,
  });
  await t.store.put(receiveConnector("Default", { banner: "after" }));
  await expect.poll(() => greetingOf(), { timeout: 5_000, interval: 50 }).toBe("220 after");
});

test("a binding added is bound; a binding removed stops accepting but its session completes", async () => {
  const t = await h.start([receiveConnector("Default"), acceptedDomain("contoso.com")]);
  await t.store.put(receiveConnector("Extra", { bindings: ["127.0.0.1:2525"], banner: "extra" }));
  await t.listener.reload();
  const extraPort = t.port("127.0.0.1:2525");
  const { client, greeting } = await open("127.0.0.1:2525");
  expect(greeting.text).toBe("220 extra");
  await client.command("EHLO app.example");

  await t.store.delete("ReceiveConnector", "Extra");
  await t.listener.reload();
  expect(t.listener.addresses().map((a) => a.port)).toEqual([25]);
  await expect(RawSmtpClient.connect({ host: "127.0.0.1", port: extraPort })).rejects.toThrow(
    /ECONNREFUSED/,
  );
  expect((await transaction(client, "a@example.org", ["b@contoso.com"], MESSAGE)).end?.code).toBe(
    250,
  );
  expect(t.queue.peek()[0]?.body.origin).toMatchObject({ receiveConnector: "Extra" });
});

test("a disabled connector is no longer chosen", async () => {
  const t = await h.start([
    receiveConnector("Default", { banner: "default" }),
    receiveConnector("Special", { remoteIpRanges: ["127.0.0.1"], banner: "special" }),
  ]);
  expect(await greetingOf()).toBe("220 special");
  await t.store.put(
    receiveConnector("Special", {
      remoteIpRanges: ["127.0.0.1"],
      banner: "special",
      enabled: false,
    }),
  );
  await t.listener.reload();
  expect(await greetingOf()).toBe("220 default");
});

test("a bad record is logged with its key and field and skipped; the others keep working", async () => {
  const t = await h.start([receiveConnector("Default", { banner: "default" })]);
  await t.store.put(
    receiveConnector("Broken", { bindings: ["127.0.0.1:2525"], remoteIpRanges: ["10.0.0.0/33"] }),
  );
  await t.listener.reload();
  expect(t.logs).toContainEqual({
    level: "warn",
    message: "record skipped",
    fields: expect.objectContaining({
      record: 'ReceiveConnector "Broken"',
      field: "remoteIpRanges[0]",
    }),
  });
  expect(t.listener.addresses().map((a) => a.port)).toEqual([25]);
  expect(await greetingOf()).toBe("220 default");
  // Reported once, not on every reload.
  await t.listener.reload();
  expect(t.logs.filter((l) => l.message === "record skipped")).toHaveLength(1);
});

test("when the record store cannot be read the last good records stay in force", async () => {
  const t = await h.start([receiveConnector("Default", { banner: "default" })]);
  t.store.list = () => Promise.reject(new Error("DynamoDB unavailable"));
  await t.listener.reload();
  expect(await greetingOf()).toBe("220 default");
});
