// The deliver use case's claim and deadline, on the memory relay: a held claim returns the job, too little time returns it unattempted.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { claimKeyOf } from "#core/usecases/claim.ts";
import { attemptWindow, LEASE_SLACK_MS, MAX_DEADLINE_MARGIN_MS } from "#core/usecases/deadline.ts";
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
  sink.received.length = 0;
});

const relay = () =>
  new TestRelay({
    records: [
      sendConnector({
        name: "Smart host",
        dnsRoutingEnabled: false,
        smartHosts: [`127.0.0.1:${sink.port}`],
      }),
    ],
  });

describe("attemptWindow", () => {
  const now = new Date("2026-11-24T10:00:00.000Z");
  it.each([
    // Lambda's deliver timeout: the margin is capped at 10 s.
    [300_000, 290_000],
    // A short remainder keeps a fifth for recording the outcome.
    [4_000, 3_200],
    [1_000, 800],
  ])("with %i ms left the attempt gets %i ms", (left, attempt) => {
    const w = attemptWindow(now, left);
    expect(w.deadline!.getTime() - now.getTime()).toBe(attempt);
    expect(left - attempt).toBeLessThanOrEqual(MAX_DEADLINE_MARGIN_MS);
    // The lease outlives the function, so a killed holder cannot still be sending when it ends.
    expect(w.leaseUntil.getTime() - now.getTime()).toBe(left + LEASE_SLACK_MS);
  });

  it("without a time limit there is no deadline and the lease is 15 minutes", () => {
    const w = attemptWindow(now);
    expect(w.deadline).toBeUndefined();
    expect(w.leaseUntil.getTime() - now.getTime()).toBe(15 * 60_000);
  });
});

describe("the job claim in the deliver use case", () => {
  it("a copy that finds the claim held sends nothing and comes back when the lease ends", async () => {
    const r = relay();
    const connections = sink.connections;
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
    await r.runRoute();
    const job = r.delivery.peek()[0]!.body;
    // Another copy holds the job for two minutes (a function that is still running).
    const until = new Date(r.clock.now().getTime() + 120_000);
    expect((await r.tracking.claim(claimKeyOf(job), "other", until, r.clock.now())).claimed).toBe(
      true,
    );

    expect(await r.runDeliver()).toEqual({ received: 1, failed: [] });
    expect(sink.connections).toBe(connections);
    expect(r.delivery.size).toBe(1);
    // Delayed until the lease ends: not visible before.
    r.advance(100);
    expect((await r.runDeliver()).received).toBe(0);
    expect((await r.row(m.id, "ann@fabrikam.test"))?.attempts).toBe(0);

    // The holder died without releasing: after the lease the returned copy takes over.
    r.advance(20);
    await r.pump();
    expect(sink.received.map((x) => x.rcptTo)).toEqual([["ann@fabrikam.test"]]);
    expect(await r.row(m.id, "ann@fabrikam.test")).toMatchObject({
      status: "Delivered",
      attempts: 1,
    });
  });

  it("a settled job keeps its claim (no release write): a redelivered copy finds it taken and the row final, and sends nothing", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
    await r.runRoute();
    const job = r.delivery.peek()[0]!.body;
    await r.pump();
    expect(sink.received).toHaveLength(1);
    const connections = sink.connections;
    // The claim is still held by the copy that delivered, until its lease ends.
    const later = new Date(r.clock.now().getTime() + 60_000);
    expect(await r.tracking.claim(claimKeyOf(job), "probe", later, r.clock.now())).toMatchObject({
      claimed: false,
    });

    // SQS delivers the same job again: it reads the row, finds it final and is done with it.
    await r.delivery.send(job);
    expect(await r.runDeliver()).toEqual({ received: 1, failed: [] });
    expect(r.delivery.size).toBe(0);
    expect(sink.connections).toBe(connections);
    expect(sink.received).toHaveLength(1);
    expect((await r.tracking.events({ messageId: m.id })).map((e) => e.event)).toEqual([
      "ROUTE",
      "DELIVER",
    ]);
  });

  it("a job next-hop limits hold back writes its rows once, so the queue view lists them, and gives back a copy that says so", async () => {
    const r = new TestRelay({
      records: [
        sendConnector({
          name: "Smart host",
          dnsRoutingEnabled: false,
          smartHosts: [`127.0.0.1:${sink.port}`],
          maxPerDomainOutboundConnections: 1,
        }),
      ],
      nextHops: true,
    });
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
    await r.runRoute();
    const job = r.delivery.peek()[0]!.body;
    // Another deliverer holds the next hop's only connection slot for ten minutes.
    const limits = { maxConnections: 1, maxMessagesPerConnection: 20 };
    const held = new Date(r.clock.now().getTime() + 600_000);
    expect((await r.nextHops!.admit(job.nextHopKey, limits, "other", held)).ok).toBe(true);

    r.advance(1);
    await r.runDeliver();
    const [back] = r.delivery.peek().map((x) => x.body);
    expect(back).toMatchObject({ jobId: job.jobId, attempts: 0, listed: true });
    const row = await r.row(m.id, "ann@fabrikam.test");
    expect(row).toMatchObject({ status: "Routed", attempts: 0 });
    expect(row?.updatedAt).not.toBe(job.firstSeenAt);
    expect(sink.received).toHaveLength(0);
  });

  it("a job received with too little time left goes back unattempted, not counted", async () => {
    const r = relay();
    const connections = sink.connections;
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@fabrikam.test"] });
    await r.runRoute();
    const received = r.delivery.receive(10);
    const res = await r.deliver(
      { Records: received.map((x) => sqsRecord("delivery", x as never)) },
      lambdaContext("delivery", Date.now() + 500),
    );
    expect(res.batchItemFailures).toEqual([]);
    for (const x of received) r.delivery.delete(x.receiptHandle);
    expect(sink.connections).toBe(connections);
    expect(r.delivery.size).toBe(1);
    expect((await r.row(m.id, "ann@fabrikam.test"))?.attempts).toBe(0);

    await r.pump();
    expect(await r.row(m.id, "ann@fabrikam.test")).toMatchObject({
      status: "Delivered",
      attempts: 1,
    });
  });
});
