// At-least-once queue semantics around deliver: redelivered and duplicate jobs send nothing twice; poison jobs end in the DLQ with their reason in tracking.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryJob } from "#core/message.ts";
import { lambdaContext, sqsRecord } from "#test/support/lambda.ts";
import { sendConnector, TestRelay } from "#test/support/relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let sink: Sink;

beforeAll(async () => {
  sink = await startSink();
});

afterAll(async () => {
  await sink.close();
});

afterEach(() => {
  sink.script = {};
  sink.received.length = 0;
});

function relay(inlineBodyLimit?: number): TestRelay {
  return new TestRelay({
    records: [
      sendConnector({
        name: "Smart host",
        dnsRoutingEnabled: false,
        smartHosts: [`127.0.0.1:${sink.port}`],
      }),
    ],
    maxReceiveCount: 3,
    ...(inlineBodyLimit !== undefined ? { inlineBodyLimit } : {}),
  });
}

describe("redelivery", () => {
  it("does not resend when a delivered job comes back after its visibility timeout", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
    await r.runRoute();

    // The function delivers but its delete never happens (timeout, crash): SQS shows the job again.
    const first = r.delivery.receive(10);
    await r.deliver(
      { Records: first.map((x) => sqsRecord("delivery", x as never)) },
      lambdaContext("delivery"),
    );
    expect(sink.received).toHaveLength(1);
    r.advance(31);
    const again = r.delivery.peek();
    expect(again).toHaveLength(1);

    const run = await r.runDeliver();
    expect(run).toEqual({ received: 1, failed: [] });
    expect(r.delivery.size).toBe(0);
    expect(sink.received).toHaveLength(1);
    expect((await r.row(m.id, "ann@fabrikam.test"))?.status).toBe("Delivered");
  });

  it("skips a duplicate of a job that a newer retry job has taken over", async () => {
    sink.script = { rcpt: () => "451 4.2.1 Try later" };
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
    await r.runRoute();
    const original = r.delivery.peek()[0]!.body;
    await r.runDeliver();
    const connections = sink.connections;

    // A crash after the retry job was queued makes SQS hand the original job out again.
    await r.delivery.send(original);
    await r.runDeliver();
    expect(sink.connections).toBe(connections);

    sink.script = {};
    r.advance(60);
    await r.pump();
    expect(sink.received).toHaveLength(1);
    expect(await r.row(m.id, "ann@fabrikam.test")).toMatchObject({
      status: "Delivered",
      attempts: 2,
    });
  });

  it("sends once when the same job was emitted twice and both copies arrive in one batch", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
    await r.runRoute();
    const job = r.delivery.peek()[0]!.body;
    await r.delivery.send(job);
    await r.pump();

    expect(sink.received).toHaveLength(1);
    expect(job.jobId).toMatch(new RegExp(`^${m.id}-[0-9a-f]{8}$`));
  });
});

describe("claim check", () => {
  it("keeps a claim-checked body until every recipient is final, then deletes it", async () => {
    sink.script = { rcpt: { "later@fabrikam.test": "451 4.2.1 Mailbox busy" } };
    const r = relay(16);
    const m = await r.submit({
      from: "app@contoso.test",
      to: ["ann@fabrikam.test", "later@fabrikam.test"],
    });
    await r.pump();
    expect(sink.received).toHaveLength(1);
    expect(r.messages.bodies.has(m.id)).toBe(true);

    sink.script = {};
    r.advance(60);
    await r.pump();
    expect(sink.received.map((x) => x.rcptTo)).toEqual([
      ["ann@fabrikam.test"],
      ["later@fabrikam.test"],
    ]);
    expect(r.messages.bodies.has(m.id)).toBe(false);
  });
});

describe("poison jobs", () => {
  it("dead-letters a job that is not a valid job, with the reason in tracking", async () => {
    const r = relay();
    await r.delivery.send({
      messageId: "20261124T100000Z-0badc0ffee00",
      recipients: ["ann@fabrikam.test"],
      connector: 42,
    } as unknown as DeliveryJob);
    for (let i = 0; i < 4; i++) {
      const run = await r.runDeliver();
      if (i < 3) expect(run.failed).toHaveLength(1);
      r.advance(31);
    }

    expect(r.delivery.size).toBe(0);
    expect(r.deliveryDlq.size).toBe(1);
    const events = await r.tracking.events({ messageId: "20261124T100000Z-0badc0ffee00" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event: "DLQ", recipient: "ann@fabrikam.test" });
    expect(events[0]!.detail).toMatch(/after 3 receives: invalid: .*connector/);
  });

  it("dead-letters a job that keeps crashing and suspends its recipients, while the rest of the batch is delivered", async () => {
    const r = relay(16);
    const doomed = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
    const fine = await r.submit({ from: "app@contoso.test", to: ["bob@fabrikam.test"] });
    await r.runRoute();
    const jobs = r.delivery.peek().map((j) => j.body);
    expect(jobs.every((j) => "storeKey" in j.body)).toBe(true);
    // The claim-checked body of one message is gone: every attempt at that job throws.
    await r.messages.delete(doomed.id);

    const firstRun = await r.runDeliver();
    expect(firstRun.received).toBe(2);
    expect(firstRun.failed).toHaveLength(1);
    expect((await r.row(fine.id, "bob@fabrikam.test"))?.status).toBe("Delivered");
    for (let i = 0; i < 3; i++) {
      r.advance(31);
      await r.runDeliver();
    }

    expect(r.deliveryDlq.size).toBe(1);
    expect(r.delivery.size).toBe(0);
    const row = await r.row(doomed.id, "ann@fabrikam.test");
    expect(row?.status).toBe("Suspended");
    expect(row?.lastError).toMatch(/^Poison message: NotFoundError/);
    const dlq = (await r.tracking.events({ messageId: doomed.id })).filter(
      (e) => e.event === "DLQ",
    );
    expect(dlq).toHaveLength(1);
    expect(sink.received.map((x) => x.rcptTo)).toEqual([["bob@fabrikam.test"]]);
  });
});
