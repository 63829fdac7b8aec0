// Admin use cases on memory adapters with a recording courier: suspend parks the job, resume sends it, retry supersedes, remove fails with an NDR.
import { beforeEach, describe, expect, test } from "vitest";
import { MemoryMessageStore } from "#adapters/memory/message-store.ts";
import { MemoryQueue } from "#adapters/memory/queue.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import { MemorySecretStore } from "#adapters/memory/secret-store.ts";
import { MemoryTrackingStore } from "#adapters/memory/tracking-store.ts";
import type { DeliveryJob, InlineBody, RecipientOutcome, SubmittedMessage } from "#core/message.ts";
import type { CourierRequest, SmtpCourier } from "#core/ports.ts";
import { RecordCache } from "#core/records/cache.ts";
import {
  type AdminDeps,
  removeMessage,
  resumeMessage,
  retryMessage,
  suspendMessage,
} from "#core/usecases/admin.ts";
import { heldJobKey } from "#core/usecases/admin-hold.ts";
import { type DeadLetterQueue, redriveDeadLetters } from "#core/usecases/admin-redrive.ts";
import { decodeInline } from "#core/usecases/body.ts";
import { type DeliverResult, deliverJob } from "#core/usecases/deliver.ts";
import type { DeliverDeps } from "#core/usecases/deps.ts";
import { routeMessage } from "#core/usecases/route.ts";
import { ManualClock } from "#test/support/clock.ts";
import { submittedMessage } from "#test/support/submitted.ts";

type Reply = "250" | "451" | "550";

/** A recording courier (chasquid's fake): answers every recipient with the scripted reply. */
class ScriptedCourier implements SmtpCourier {
  reply: Reply = "451";
  readonly sent: CourierRequest[] = [];
  /** Runs while the SMTP transaction is "on the wire". */
  during: (() => Promise<unknown>) | undefined;
  async send(request: CourierRequest): Promise<RecipientOutcome[]> {
    this.sent.push(request);
    await this.during?.();
    return request.recipients.map((recipient): RecipientOutcome => {
      if (this.reply === "250")
        return {
          recipient,
          status: "delivered",
          remoteHost: "192.0.2.25",
          reply: { code: 250, enhanced: "2.0.0", text: "OK" },
        };
      if (this.reply === "550")
        return {
          recipient,
          status: "permanent",
          remoteHost: "192.0.2.25",
          reply: { code: 550, enhanced: "5.1.1", text: "User unknown" },
        };
      return {
        recipient,
        status: "transient",
        remoteHost: "192.0.2.25",
        reply: { code: 451, enhanced: "4.7.1", text: "Try again later" },
      };
    });
  }
}

let clock: ManualClock;
let courier: ScriptedCourier;
let delivery: MemoryQueue<DeliveryJob>;
let submission: MemoryQueue<SubmittedMessage>;
let deps: DeliverDeps & AdminDeps;
let messages: MemoryMessageStore;
let tracking: MemoryTrackingStore;

beforeEach(() => {
  clock = new ManualClock();
  courier = new ScriptedCourier();
  delivery = new MemoryQueue({ clock });
  submission = new MemoryQueue({ clock });
  messages = new MemoryMessageStore();
  tracking = new MemoryTrackingStore();
  const records = new MemoryRecordStore([
    {
      kind: "SendConnector",
      name: "Smarthost",
      addressSpaces: [{ domain: "*", cost: 1 }],
      dnsRoutingEnabled: false,
      smartHosts: ["192.0.2.25"],
    },
    {
      kind: "TransportSettings",
      name: "default",
      retrySchedule: [{ intervalSeconds: 600, count: 10 }],
    },
  ]);
  deps = {
    records: new RecordCache(records, { ttlMs: 0, clock }),
    tracking,
    messages,
    submissionQueue: submission,
    deliveryQueue: delivery,
    clock,
    hostName: "relay.test",
    dns: {
      resolveMx: async () => [],
      resolveAddresses: async (h) => [h],
    },
    courier,
    secrets: new MemorySecretStore({}),
    jobs: {
      forMessage: async (id) =>
        delivery.peek().flatMap((m) => (m.body.messageId === id ? [m.body] : [])),
    },
  };
});

async function submitAndRoute(to = ["bob@fabrikam.com"]): Promise<string> {
  const id = `20261124T100000Z-${Math.random().toString(16).slice(2, 14)}`;
  const raw = `From: <alice@contoso.com>\r\nTo: <${to[0]}>\r\nSubject: Quarterly report\r\nMessage-ID: <${id}@contoso.test>\r\n\r\nHello.\r\n`;
  await routeMessage(
    deps,
    submittedMessage({
      id,
      receivedAt: clock.now(),
      envelope: { mailFrom: "alice@contoso.com", rcptTo: to },
      raw,
      clientHelo: "app",
      subject: "Quarterly report",
    }),
  );
  return id;
}

/** Runs every visible delivery job once, deleting it as the queue worker would. */
async function runDelivery(): Promise<DeliverResult[]> {
  const results: DeliverResult[] = [];
  for (const m of delivery.receive(10)) {
    results.push(await deliverJob(deps, m.body));
    delivery.delete(m.receiptHandle);
  }
  return results;
}

const row = (id: string, r = "bob@fabrikam.com") => tracking.get(id, r);

describe("suspend and resume", () => {
  test("a job that finds its recipients suspended is parked, and resume sends it on", async () => {
    const id = await submitAndRoute();
    await runDelivery(); // 451: deferred, retry job due in 10 minutes
    expect((await row(id))?.status).toBe("Deferred");

    expect(await suspendMessage(deps, id)).toMatchObject({
      kind: "done",
      recipients: ["bob@fabrikam.com"],
    });
    clock.advance(600_000);
    const [held] = await runDelivery();
    expect(held).toMatchObject({
      kind: "nothing-to-do",
      reason: expect.stringMatching(/^suspended: 1 recipient/),
    });
    expect(courier.sent).toHaveLength(1);
    const jobId = (await row(id))?.jobId as string;
    expect(messages.bodies.has(heldJobKey(jobId))).toBe(true);
    expect(delivery.size).toBe(0);

    courier.reply = "250";
    const resumed = await resumeMessage(deps, id);
    expect(resumed).toMatchObject({ kind: "done", jobs: [jobId] });
    expect(messages.bodies.has(heldJobKey(jobId))).toBe(false);
    await runDelivery();
    expect(courier.sent).toHaveLength(2);
    expect((await row(id))?.status).toBe("Delivered");
    const events = (await tracking.events({ messageId: id })).map((e) => e.event);
    expect(events).toEqual(["ROUTE", "DEFER", "SUSPEND", "RESUME", "DELIVER"]);
  });

  test("resume before the job woke up leaves the queued job to carry on", async () => {
    const id = await submitAndRoute();
    await runDelivery();
    await suspendMessage(deps, id);
    const r = await resumeMessage(deps, id);
    expect(r).toMatchObject({ kind: "done", jobs: [], note: expect.stringMatching(/next retry/) });
    courier.reply = "250";
    clock.advance(600_000);
    await runDelivery();
    expect((await row(id))?.status).toBe("Delivered");
  });

  test("a recipient delivered while an admin suspended it stays Delivered", async () => {
    const id = await submitAndRoute();
    courier.reply = "250";
    courier.during = () => suspendMessage(deps, id);
    await runDelivery();
    expect((await row(id))?.status).toBe("Delivered");
  });

  test("resume while the job is being parked (rows read Suspended, copy not yet written) still sends it", async () => {
    const id = await submitAndRoute();
    await runDelivery();
    await suspendMessage(deps, id);
    const jobId = (await row(id))?.jobId as string;
    // The admin resumes between deliver's read of the rows and its write of the parked copy: parking
    // first looks for an earlier copy, so resume runs during that read and finds nothing parked yet.
    const get = messages.get.bind(messages);
    let resumed: Promise<unknown> | undefined;
    messages.get = async (key) => {
      if (key === heldJobKey(jobId) && !resumed) {
        resumed = resumeMessage(deps, id);
        await resumed;
      }
      return get(key);
    };
    clock.advance(600_000);
    await runDelivery();
    expect(await resumed).toMatchObject({ kind: "done", recipients: ["bob@fabrikam.com"] });
    expect((await row(id))?.status).toBe("Deferred");
    // Resumed, so no copy stays parked and a job is queued to send it.
    expect(messages.bodies.has(heldJobKey(jobId))).toBe(false);
    courier.reply = "250";
    await runDelivery();
    expect(courier.sent).toHaveLength(2);
    expect((await row(id))?.status).toBe("Delivered");
  });

  test("nothing to suspend or resume is said, and an unknown message is not found", async () => {
    const id = await submitAndRoute();
    expect(await resumeMessage(deps, id)).toMatchObject({ kind: "nothing-to-do" });
    expect(await suspendMessage(deps, "20261124T100000Z-000000000000")).toEqual({
      kind: "not-found",
      messageId: "20261124T100000Z-000000000000",
    });
  });
});

describe("retry", () => {
  test("the forced copy delivers now and the delayed original does nothing when it wakes", async () => {
    const id = await submitAndRoute();
    await runDelivery();
    expect(courier.sent).toHaveLength(1);
    courier.reply = "250";
    const r = await retryMessage(deps, id);
    expect(r).toMatchObject({ kind: "done", recipients: ["bob@fabrikam.com"] });
    await runDelivery(); // the copy is visible now; the original still waits
    expect(courier.sent).toHaveLength(2);
    expect((await row(id))?.status).toBe("Delivered");
    clock.advance(600_000);
    const late = await runDelivery();
    expect(late).toEqual([
      { kind: "nothing-to-do", reason: "every recipient is final or owned by a newer job" },
    ]);
    expect(courier.sent).toHaveLength(2);
  });

  test("a copy deferred again supersedes the original too: one attempt per retry, no double send", async () => {
    const id = await submitAndRoute();
    await runDelivery();
    await retryMessage(deps, id);
    await runDelivery();
    expect(courier.sent).toHaveLength(2);
    // Both the original and the copy's own retry are due now; only the newest may send.
    clock.advance(600_000);
    await runDelivery();
    expect(courier.sent).toHaveLength(3);
  });

  test("only deferred messages are retried; without a readable queue it is unsupported", async () => {
    const id = await submitAndRoute();
    expect(await retryMessage(deps, id)).toMatchObject({ kind: "nothing-to-do" });
    await runDelivery();
    const { jobs: _, ...sqsLike } = deps;
    expect(await retryMessage(sqsLike, id)).toMatchObject({ kind: "unsupported" });
  });
});

describe("remove", () => {
  test("remove with an NDR fails every open recipient, reports it to the sender and drops the parked job", async () => {
    const id = await submitAndRoute(["bob@fabrikam.com", "carol@fabrikam.com"]);
    await runDelivery();
    await suspendMessage(deps, id);
    clock.advance(600_000);
    await runDelivery(); // parked
    const r = await removeMessage(deps, id, { withNdr: true });
    expect(r).toMatchObject({ kind: "done", ndr: { sent: true } });
    for (const rcpt of ["bob@fabrikam.com", "carol@fabrikam.com"])
      expect(await row(id, rcpt)).toMatchObject({
        status: "Failed",
        lastError: "Removed by administrator",
      });
    expect([...messages.bodies.keys()]).toEqual([]);
    const [ndr] = submission.peek().map((m) => m.body);
    expect(ndr?.envelope).toEqual({ mailFrom: "", rcptTo: ["alice@contoso.com"] });
    const text = Buffer.from(decodeInline(ndr!.body as InlineBody)).toString();
    expect(text).toContain("550 5.3.2 QUEUE.Admin; message deleted by");
    expect(text).toContain("Subject: Quarterly report");
    expect(await removeMessage(deps, id)).toMatchObject({ kind: "nothing-to-do" });
  });
});

describe("dead letters", () => {
  test("redrive releases the poison hold before the job goes back", async () => {
    const id = await submitAndRoute();
    const [m] = delivery.receive(1);
    const job = m!.body;
    await tracking.update(id, "bob@fabrikam.com", {
      status: "Suspended",
      lastError: "Poison message: Error: boom",
    });
    const back: unknown[] = [];
    const dlq: DeadLetterQueue = {
      queue: "delivery",
      async redrive(release) {
        await release(job);
        back.push(job);
        return 1;
      },
    };
    expect(await redriveDeadLetters(deps, [dlq])).toEqual([
      { queue: "delivery", moved: 1, released: [id] },
    ]);
    expect((await row(id))?.status).toBe("Deferred");
    courier.reply = "250";
    await deliverJob(deps, back[0] as DeliveryJob);
    expect((await row(id))?.status).toBe("Delivered");
  });
});
