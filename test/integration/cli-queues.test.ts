// The queue, message and track verbs as a child process against a running local relay that delivers to a scripted smart host.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openQueueStore } from "#adapters/local/queue.ts";
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import type { DeliveryJob } from "#core/message.ts";
import type { MessageView, QueueView, TrackingLine } from "#core/usecases/admin-views.ts";
import { QUEUE, relayHome } from "#local/home.ts";
import { type CliRelay, startCliRelay, submit, waitFor } from "#test/support/cli-relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let sink: Sink;
let r: CliRelay;
/** What the smart host answers per recipient; a recipient not listed is accepted. */
const answers = new Map<string, string>();
const GREYLIST = "451 4.7.1 Greylisted, try again later";

beforeAll(async () => {
  sink = await startSink({ script: { rcpt: (a) => answers.get(a) } });
  r = await startCliRelay([
    {
      kind: "SendConnector",
      name: "Smart Host",
      addressSpaces: [{ domain: "*", cost: 1 }],
      dnsRoutingEnabled: false,
      smartHosts: [`127.0.0.1:${sink.port}`],
    },
    {
      kind: "TransportSettings",
      name: "default",
      retrySchedule: [{ intervalSeconds: 2, count: 100 }],
    },
  ]);
}, 30_000);
afterAll(async () => {
  await r?.stop();
  await sink?.close();
});

const queueName = () => `127.0.0.1:${sink.port}`;
const deliveredTo = (rcpt: string) => sink.received.filter((m) => m.rcptTo.includes(rcpt));
const queues = () => r.json<QueueView[]>(["queue", "get"]);
const messagesIn = (queue: string) => r.json<MessageView[]>(["message", "get", "--queue", queue]);
const events = async (id: string) =>
  (await r.json<TrackingLine[]>(["track", "--message-id", id])).map((l) => l.eventId);

async function deferred(rcpt: string): Promise<string> {
  answers.set(rcpt, GREYLIST);
  const id = await submit(r.port, "alice@contoso.com", [rcpt]);
  await waitFor(`${id} deferred`, async () =>
    (await messagesIn(queueName())).some((m) => m.messageId === id && m.status === "Retry"),
  );
  return id;
}

describe("a message the smart host greylists", () => {
  let id: string;

  test("queue get shows its queue in Retry with the LastError; message get and track show the message", async () => {
    id = await deferred("bob@fabrikam.com");
    const q = (await queues()).find((x) => x.identity === queueName());
    expect(q).toMatchObject({
      deliveryType: "SmartHost",
      status: "Retry",
      messageCount: 1,
      nextHopDomain: queueName(),
      connector: "Smart Host",
      lastError: `127.0.0.1: ${GREYLIST}`,
      nextRetryTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const table = await r.cli(["queue", "get"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /Identity\s+DeliveryType\s+Status\s+MessageCount\s+NextHopDomain\s+LastError\s+NextRetryTime/,
    );
    expect(table.stdout).toMatch(/^Submission\s+Undefined\s+Ready\s+0\s+Submission/m);
    expect(table.stdout).toContain(`127.0.0.1: ${GREYLIST}`);
    expect(table.stdout).toMatch(/^Poison\s+Undefined\s+Ready\s+0\s+Poison/m);

    const [m] = (await messagesIn(queueName())).filter((x) => x.messageId === id);
    expect(m).toMatchObject({
      identity: `${queueName()}\\${id}`,
      fromAddress: "alice@contoso.com",
      status: "Retry",
      subject: "Quarterly report",
      recipients: ["bob@fabrikam.com"],
      lastError: `127.0.0.1: ${GREYLIST}`,
      retryCount: expect.any(Number),
    });
    expect(m?.retryCount).toBeGreaterThanOrEqual(1);
    const list = await r.cli(["message", "get", "--queue", queueName()]);
    expect(list.stdout).toMatch(/Identity\s+FromAddress\s+Status\s+Size\s+Subject\s+Recipients/);
    expect(list.stdout).toContain(`${queueName()}\\${id}`);

    expect((await events(id)).slice(0, 3)).toEqual(["RECEIVE", "ROUTE", "DEFER"]);
    const log = await r.cli(["track", "--recipient", "bob@fabrikam.com"]);
    expect(log.stdout).toMatch(
      /Timestamp\s+EventId\s+Source\s+Sender\s+Recipients\s+MessageSubject\s+Detail/,
    );
    expect(log.stdout).toMatch(
      /DEFER\s+SMTP\s+alice@contoso.com\s+bob@fabrikam.com\s+Quarterly report\s+127\.0\.0\.1: 451 4\.7\.1/,
    );
  });

  test("suspend holds it (the job is parked, none queued); resume sends it on and it is delivered", async () => {
    const s = await r.json<{ ok: boolean; recipients: string[] }>(["message", "suspend", id]);
    expect(s).toMatchObject({ ok: true, action: "suspend", recipients: ["bob@fabrikam.com"] });
    // At its next retry the job finds the recipient suspended and is parked instead of sent. The
    // parked copy is written first and the job leaves the queue after it (the worker deletes it
    // once deliver returns; a crash between keeps both), so the wait is for the job to leave, and
    // a job that left without a parked copy would be a lost message.
    const store = openQueueStore(relayHome(r.home).queues);
    const queued = async () =>
      (await store.queue<DeliveryJob>(QUEUE.delivery).list()).filter(
        (j) => j.body.messageId === id,
      );
    try {
      await waitFor(
        "the job to leave the delivery queue",
        async () => (await queued()).length === 0,
      );
      const held = (await readdir(join(r.home, "bodies"))).filter((f) => f.startsWith("held."));
      expect(held).toHaveLength(1);
      expect(await queued()).toEqual([]);
    } finally {
      store.close();
    }
    const [m] = (await messagesIn(queueName())).filter((x) => x.messageId === id);
    expect(m?.status).toBe("Suspended");
    expect((await queues()).find((x) => x.identity === queueName())?.status).toBe("Suspended");

    answers.delete("bob@fabrikam.com");
    const resumed = await r.cli(["message", "resume", id]);
    expect(resumed).toMatchObject({ code: 0, stderr: "" });
    expect(resumed.stdout).toMatch(new RegExp(`Resumed message ${id}: bob@fabrikam.com`));
    await waitFor("delivery after resume", () => deliveredTo("bob@fabrikam.com").length === 1);
    await waitFor("DELIVER tracked", async () => (await events(id)).includes("DELIVER"));
    expect(await events(id)).toEqual(
      expect.arrayContaining(["RECEIVE", "ROUTE", "DEFER", "SUSPEND", "RESUME", "DELIVER"]),
    );
    expect((await readdir(join(r.home, "bodies"))).filter((f) => f.startsWith("held."))).toEqual(
      [],
    );
  });
});

describe("with an hour between retries", () => {
  beforeAll(async () => {
    await new LocalRecordStore(join(r.home, "records")).put({
      kind: "TransportSettings",
      name: "default",
      retrySchedule: [{ intervalSeconds: 3600, count: 100 }],
    });
    // The relay re-reads records after its 2 s TTL.
    await new Promise((resolve) => setTimeout(resolve, 2500));
  });

  test("retry sends a deferred message now instead of at its NextRetryTime", async () => {
    const id = await deferred("carol@fabrikam.com");
    const [m] = (await messagesIn(queueName())).filter((x) => x.messageId === id);
    expect(Date.parse(m?.nextRetryTime ?? "")).toBeGreaterThan(Date.now() + 30 * 60_000);
    answers.delete("carol@fabrikam.com");
    const retried = await r.json<{ ok: boolean; jobs: string[] }>(["message", "retry", id]);
    expect(retried).toMatchObject({
      ok: true,
      action: "retry",
      recipients: ["carol@fabrikam.com"],
    });
    await waitFor("delivery after retry", () => deliveredTo("carol@fabrikam.com").length === 1);
    await waitFor("DELIVER tracked", async () => (await events(id)).includes("DELIVER"));
    expect(await events(id)).toEqual(["RECEIVE", "ROUTE", "DEFER", "RETRY", "DELIVER"]);
    const again = await r.cli(["message", "retry", id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/nothing to retry \(carol@fabrikam.com Delivered\)/);
  });

  test("queue retry --identity retries every deferred message of that next hop now (Retry-Queue)", async () => {
    const id = await deferred("frank@fabrikam.com");
    answers.delete("frank@fabrikam.com");
    const r1 = await r.json<{ retried: string[] }>(["queue", "retry", "--identity", queueName()]);
    expect(r1).toEqual({ ok: true, queue: queueName(), retried: [id], notRetried: [] });
    await waitFor(
      "delivery after Retry-Queue",
      () => deliveredTo("frank@fabrikam.com").length === 1,
    );
  });

  test("remove --with-ndr fails it as removed by the administrator and the sender gets an NDR", async () => {
    const id = await deferred("dave@fabrikam.com");
    const removed = await r.cli(["message", "remove", "--with-ndr", id]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(
      /Removed message .*: dave@fabrikam.com; NDR \S+ queued to the sender/,
    );
    const detail = await r.json<{ recipients: Array<{ status: string; lastError: string }> }>([
      "message",
      "get",
      id,
    ]);
    expect(detail.recipients).toEqual([
      expect.objectContaining({
        recipient: "dave@fabrikam.com",
        status: "Failed",
        lastError: "Removed by administrator",
      }),
    ]);
    await waitFor("the NDR at the smart host", () => deliveredTo("alice@contoso.com").length === 1);
    const ndr = deliveredTo("alice@contoso.com")[0]!;
    expect(ndr.mailFrom).toBe("");
    expect(ndr.raw.toString()).toMatch(/550 5\.3\.2 QUEUE\.Admin; message deleted by/);
    const all = await r.json<MessageView[]>(["message", "get"]);
    expect(all.some((x) => x.messageId === id)).toBe(false);
  });
});

test("queue retry redrives the Poison queue, releasing the poison hold first", async () => {
  // A job the relay dead-lettered: its recipient suspended with the poison reason, the job in the DLQ.
  const messageId = "20261124T100000Z-0000000000e1";
  const raw = Buffer.from("From: <alice@contoso.com>\r\nSubject: Poisoned\r\n\r\nHi.\r\n");
  const job: DeliveryJob = {
    jobId: `${messageId}-00000001`,
    messageId,
    connector: "Smart Host",
    nextHop: { type: "smarthost", hosts: [queueName()] },
    nextHopKey: queueName(),
    mailFrom: "alice@contoso.com",
    recipients: ["erin@fabrikam.com"],
    body: { inline: raw.toString("base64") },
    size: raw.byteLength,
    receivedAt: new Date().toISOString(),
    attempts: 0,
    firstSeenAt: new Date().toISOString(),
  };
  const tracking = new LocalTrackingStore(join(r.home, "tracking.db"));
  await tracking.put({
    messageId,
    recipient: "erin@fabrikam.com",
    sender: "alice@contoso.com",
    status: "Suspended",
    receivedAt: job.receivedAt,
    updatedAt: job.receivedAt,
    attempts: 0,
    connector: "Smart Host",
    nextHop: queueName(),
    jobId: job.jobId,
    subject: "Poisoned",
    lastError: "Poison message: Error: boom",
  });
  tracking.close();
  const queueStore = openQueueStore(relayHome(r.home).queues);
  await queueStore.queue(QUEUE.deliveryDlq).send(job);
  queueStore.close();

  expect((await queues()).find((q) => q.identity === "Poison")?.messageCount).toBe(1);
  expect(await messagesIn("Poison")).toEqual([
    expect.objectContaining({
      identity: `Poison\\${messageId}`,
      status: "Suspended",
      recipients: ["erin@fabrikam.com"],
      lastError: "Poison message: Error: boom",
    }),
  ]);
  const redriven = await r.json<{ redriven: unknown[] }>(["queue", "retry"]);
  expect(redriven.redriven).toEqual([
    { queue: "submission", moved: 0, released: [] },
    { queue: "delivery", moved: 1, released: [messageId] },
  ]);
  await waitFor("delivery after redrive", () => deliveredTo("erin@fabrikam.com").length === 1);
  expect((await queues()).find((q) => q.identity === "Poison")?.messageCount).toBe(0);
});
