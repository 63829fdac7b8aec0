// The duplicate window after a crash: a remote 250 is recorded, durably, as its transaction ends, before the attempt goes on.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, expect, test } from "vitest";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { newMessageId } from "#core/ids.ts";
import { sendConnector, TestRelay } from "#test/support/relay.ts";
import { waitFor } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import { submittedMessage } from "#test/support/submitted.ts";

let sink: Sink;
beforeAll(async () => {
  // Each "." line is answered after 400 ms: the time to look at tracking between two transactions.
  sink = await startSink({ script: { dataDelayMs: 400 } });
});
afterAll(async () => {
  await sink.close();
});

test("the first transaction's recipient is Delivered while the attempt's second transaction is still open", async () => {
  const relay = new TestRelay({
    records: [
      sendConnector({
        name: "Smart host",
        dnsRoutingEnabled: false,
        smartHosts: [`127.0.0.1:${sink.port}`],
      }),
    ],
  });
  // Different NOTIFY per recipient: one job, two SMTP transactions (one set of RCPT parameters
  // per transaction in nodemailer), in recipient order.
  const message = submittedMessage({
    id: newMessageId(relay.clock.now()),
    receivedAt: relay.clock.now(),
    envelope: {
      mailFrom: "app@contoso.test",
      rcptTo: ["ann@fabrikam.test", "bob@fabrikam.test"],
      rcptDsn: { "ann@fabrikam.test": { notify: ["FAILURE"] } },
    },
    raw: "From: <app@contoso.test>\r\nSubject: Report\r\n\r\nHello.\r\n",
  });
  await relay.submission.send(message);
  await relay.runRoute();
  const delivering = relay.runDeliver();

  await waitFor("the first transaction at the sink", () => sink.received.length === 1, 5000);
  await waitFor(
    "ann recorded as Delivered",
    async () => (await relay.row(message.id, "ann@fabrikam.test"))?.status === "Delivered",
    5000,
  );
  // Recorded before the attempt ended: the second transaction had not been answered yet.
  expect(sink.received.length).toBe(1);
  expect((await relay.row(message.id, "bob@fabrikam.test"))?.status).toBe("Routed");

  expect(await delivering).toEqual({ received: 1, failed: [] });
  expect(sink.received.map((m) => m.rcptTo)).toEqual([
    ["ann@fabrikam.test"],
    ["bob@fabrikam.test"],
  ]);
  expect((await relay.row(message.id, "bob@fabrikam.test"))?.status).toBe("Delivered");
});

test("local tracking: flush commits the turn's writes at once, where another process can read them", async () => {
  const dir = await mkdtemp(join(tmpdir(), "relay-tracking-"));
  const path = join(dir, "tracking.db");
  const tracking = new LocalTrackingStore(path);
  // The CLI's view: its own connection to the same file.
  const reader = new DatabaseSync(path, { readOnly: true });
  const status = () =>
    (reader.prepare("SELECT status FROM recipients").get() as { status: string } | undefined)
      ?.status;
  try {
    const row = {
      messageId: "m1",
      recipient: "ann@fabrikam.test",
      sender: "app@contoso.test",
      status: "Routed" as const,
      receivedAt: "2026-11-30T10:00:00.000Z",
      updatedAt: "2026-11-30T10:00:00.000Z",
      attempts: 0,
    };
    await tracking.create(row);
    // Grouped: nothing is committed until the event-loop turn ends.
    expect(status()).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(status()).toBe("Routed");

    await tracking.update("m1", "ann@fabrikam.test", { status: "Delivered" });
    expect(status()).toBe("Routed");
    await tracking.flush();
    // Same turn, already committed: a kill -9 now keeps it.
    expect(status()).toBe("Delivered");
  } finally {
    reader.close();
    tracking.close();
    await rm(dir, { recursive: true, force: true });
  }
});
