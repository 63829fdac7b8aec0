// The route function on SQS-shaped batches: connector choice per domain, jobs per next hop, tracking rows, claim check, unroutable NDRs, redelivery.
import { describe, expect, it } from "vitest";
import type { SubmittedMessage } from "#core/message.ts";
import { parseReport } from "#test/support/dsn.ts";
import { rawOf, sendConnector, TestRelay } from "#test/support/relay.ts";

const CONNECTORS = [
  sendConnector({ name: "To Internet" }),
  sendConnector({
    name: "Fabrikam partner",
    addressSpaces: [{ domain: "fabrikam.test", cost: 1 }],
  }),
  sendConnector({ name: "Fabrikam backup", addressSpaces: [{ domain: "fabrikam.test", cost: 5 }] }),
  sendConnector({
    name: "Smart host",
    dnsRoutingEnabled: false,
    smartHosts: ["10.0.0.5:587", "10.0.0.6:587"],
    addressSpaces: [
      { domain: "*.northwind.test", cost: 1 },
      { domain: "tailspin.test", cost: 1 },
    ],
  }),
];

function relay(records: Record<string, unknown>[] = CONNECTORS, inlineBodyLimit?: number) {
  return new TestRelay({
    records,
    ...(inlineBodyLimit !== undefined ? { inlineBodyLimit } : {}),
  });
}

const jobsOf = (r: TestRelay) => r.delivery.peek().map((j) => j.body);

describe("route", () => {
  it("routes each domain through its connector and emits one job per connector and next hop", async () => {
    const r = relay();
    const m = await r.submit({
      from: "app@contoso.test",
      to: [
        "a@fabrikam.test",
        "b@Fabrikam.test",
        "c@contoso.test",
        "d@sales.northwind.test",
        "e@tailspin.test",
      ],
    });
    expect(await r.runRoute()).toEqual({ received: 1, failed: [] });

    const jobs = jobsOf(r);
    const summary = jobs.map((j) => [j.connector, j.nextHopKey, j.recipients]);
    expect(summary).toEqual([
      ["Fabrikam partner", "fabrikam.test", ["a@fabrikam.test", "b@Fabrikam.test"]],
      ["To Internet", "contoso.test", ["c@contoso.test"]],
      ["Smart host", "10.0.0.5:587,10.0.0.6:587", ["d@sales.northwind.test", "e@tailspin.test"]],
    ]);
    expect(jobs[2]?.nextHop).toEqual({
      type: "smarthost",
      hosts: ["10.0.0.5:587", "10.0.0.6:587"],
    });
    for (const j of jobs)
      expect(j).toMatchObject({ messageId: m.id, mailFrom: "app@contoso.test", attempts: 0 });
    expect(jobs[0]!.body).toEqual(m.body);

    const rows = await r.tracking.listByMessage(m.id);
    expect(rows).toHaveLength(5);
    const a = rows.find((x) => x.recipient === "a@fabrikam.test");
    expect(a).toMatchObject({
      status: "Routed",
      connector: "Fabrikam partner",
      nextHop: "fabrikam.test",
      jobId: jobs[0]!.jobId,
      sender: "app@contoso.test",
      subject: "Quarterly report",
    });
    const route = (await r.tracking.events({ recipient: "d@sales.northwind.test" }))[0];
    expect(route).toMatchObject({ event: "ROUTE", source: "ROUTING" });
    expect(route?.detail).toContain('"Smart host" (address space "*.northwind.test" cost 1)');
  });

  it("chooses a connector scoped to the receive connector the message came in on", async () => {
    const records = [
      sendConnector({ name: "To Internet" }),
      sendConnector({
        name: "Apps via smart host",
        sourceListeners: ["Client"],
        dnsRoutingEnabled: false,
        smartHosts: ["10.0.0.9"],
      }),
    ];
    const r = relay(records);
    await r.submit({
      from: "app@contoso.test",
      to: ["a@fabrikam.test"],
      receiveConnector: "Client",
    });
    await r.submit({
      from: "app@contoso.test",
      to: ["a@fabrikam.test"],
      receiveConnector: "Default",
    });
    await r.runRoute();

    expect(jobsOf(r).map((j) => j.connector)).toEqual(["Apps via smart host", "To Internet"]);
  });

  it("fails recipients without a route with 5.4.4 and queues an NDR to the sender", async () => {
    const r = relay([CONNECTORS[1]!]);
    const m = await r.submit({
      from: "app@contoso.test",
      to: ["a@fabrikam.test", "x@elsewhere.test"],
    });
    await r.runRoute();

    expect(jobsOf(r).map((j) => j.recipients)).toEqual([["a@fabrikam.test"]]);
    const row = await r.row(m.id, "x@elsewhere.test");
    expect(row?.status).toBe("Failed");
    expect(row?.lastError).toMatch(/^550 5\.4\.4 Unable to route: no enabled send connector/);
    const [ndr] = r.reports();
    expect(ndr?.envelope).toEqual({ mailFrom: "", rcptTo: ["app@contoso.test"] });
    expect(ndr?.origin).toEqual({ type: "dsn", aboutMessageId: m.id });
    const report = await parseReport(await rawOf(r, ndr!));
    expect(report.perRecipient).toEqual([
      expect.objectContaining({
        "final-recipient": "rfc822; x@elsewhere.test",
        status: "5.4.4",
        "diagnostic-code": "smtp; 550 5.4.4 Unable to route: no route to elsewhere.test",
      }),
    ]);
  });

  it("sends no NDR for an unroutable message from the null sender", async () => {
    const r = relay([CONNECTORS[1]!]);
    const m = await r.submit({ from: "", to: ["x@elsewhere.test"] });
    await r.runRoute();

    expect((await r.row(m.id, "x@elsewhere.test"))?.status).toBe("Failed");
    expect(r.submission.size).toBe(0);
  });

  it("moves bodies above the inline limit to the message store and keeps small ones inline", async () => {
    const r = relay(CONNECTORS, 300);
    const big = await r.submit({
      from: "app@contoso.test",
      to: ["a@fabrikam.test"],
      body: "x".repeat(400),
    });
    const small = await r.submit({ from: "app@contoso.test", to: ["b@fabrikam.test"] });
    await r.runRoute();

    const bigJob = jobsOf(r).find((j) => j.messageId === big.id);
    const smallJob = jobsOf(r).find((j) => j.messageId === small.id);
    expect(bigJob?.body).toEqual({ storeKey: big.id });
    expect(Buffer.from(await r.messages.get(big.id)).equals(await rawOf(r, big))).toBe(true);
    expect(smallJob?.body).toEqual(small.body);
    expect("inline" in (smallJob?.body ?? {})).toBe(true);
  });

  it("routes a submission delivered twice once: one ROUTE event, and the same job again at most", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["a@fabrikam.test"] });
    await r.submission.send(m);
    await r.runRoute();
    await r.submission.send(m);
    await r.runRoute();

    // The rows cannot tell whether the first run's jobs got out, so a redelivered submission emits
    // them again under the same job id: deliver's claim and rows make that copy send nothing.
    const jobs = jobsOf(r);
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(1);
    expect(jobs.length).toBeLessThanOrEqual(2);
    expect(
      (await r.tracking.events({ messageId: m.id })).filter((e) => e.event === "ROUTE"),
    ).toHaveLength(1);
  });

  it("keeps a submission whose jobs could not be queued and routes it on the next receive", async () => {
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["a@fabrikam.test"] });
    r.delivery.failSends = new Error("delivery queue unavailable");
    const run = await r.runRoute();

    expect(run.failed).toHaveLength(1);
    // The row is written Routed with its ROUTE event before the job, in one write.
    expect((await r.row(m.id, "a@fabrikam.test"))?.status).toBe("Routed");
    expect(jobsOf(r)).toHaveLength(0);
    r.delivery.failSends = undefined;
    r.advance(31);
    await r.runRoute();
    expect((await r.row(m.id, "a@fabrikam.test"))?.status).toBe("Routed");
    expect(jobsOf(r)).toHaveLength(1);
    expect(r.submission.size).toBe(0);
    expect(
      (await r.tracking.events({ messageId: m.id })).filter((e) => e.event === "ROUTE"),
    ).toHaveLength(1);
  });

  it("reports a bad record in a batch on its own and dead-letters it with the reason in tracking", async () => {
    const r = relay();
    const good = await r.submit({ from: "app@contoso.test", to: ["a@fabrikam.test"] });
    await r.submission.send({
      id: "20261124T100000Z-00000000bad1",
      envelope: { rcptTo: [] },
    } as unknown as SubmittedMessage);
    const first = await r.runRoute();

    expect(first.received).toBe(2);
    expect(first.failed).toHaveLength(1);
    expect((await r.row(good.id, "a@fabrikam.test"))?.status).toBe("Routed");
    for (let i = 0; i < 3; i++) {
      r.advance(31);
      await r.runRoute();
    }
    expect(r.submission.size).toBe(0);
    expect(r.submissionDlq.size).toBe(1);
    const [dlq] = await r.tracking.events({ messageId: "20261124T100000Z-00000000bad1" });
    expect(dlq).toMatchObject({ event: "DLQ", source: "ROUTING" });
    expect(dlq?.detail).toContain(
      "submission queue: to the dead-letter queue after 3 receives: invalid:",
    );
  });
});
