// Faults on the delivery side, against local mode in-process: the smart host down then back, 4xx then 2xx, 5xx and its
// NDR, DNS SERVFAIL then recovery, a sink that stalls mid-DATA. Mail acknowledged with 250 always arrives, once.
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, test } from "vitest";
import { startDnsServer } from "#test/support/dns-server.ts";
import {
  type FaultRelay,
  smartHostConnector,
  startFaultRelay,
  submit,
} from "#test/support/fault-relay.ts";
import { freePort, waitFor } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

async function relayWith(
  sendConnector: Record<string, unknown>,
  options: { smtpTimeoutMs?: number } = {},
): Promise<FaultRelay> {
  const r = await startFaultRelay([sendConnector], options);
  cleanup.push(() => r.stop());
  return r;
}

async function sink(options: Parameters<typeof startSink>[0] = {}): Promise<Sink> {
  const s = await startSink(options);
  cleanup.push(() => s.close());
  return s;
}

const smartHost = (port: number) => smartHostConnector(`127.0.0.1:${port}`);

async function queued(r: FaultRelay, to: string[], subject: string): Promise<string> {
  const s = await submit(r.port, { from: "app@example.com", to, subject });
  expect(s.reply.code).toBe(250);
  return s.id!;
}

const subjects = (s: Sink) => s.received.map((m) => /^Subject: (.*)$/m.exec(m.raw.toString())?.[1]);

describe("delivery faults end in delivery or a bounce, never in silence", () => {
  test("smart host down, then back: every queued message is delivered after retries", async () => {
    const port = await freePort();
    const r = await relayWith(smartHost(port));
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await queued(r, [`rcpt${i}@example.net`], `down ${i}`));
    for (const id of ids)
      await r.waitRows(
        id,
        "a failed attempt",
        (row) => row.status === "Deferred" && row.attempts >= 1,
      );
    const [row] = await r.rows(ids[0]!);
    expect(row?.lastError).toMatch(/^127\.0\.0\.1: 451 4\.4\.1 Unable to connect: ECONNREFUSED/);

    const back = await sink({ port });
    await waitFor("all five at the smart host", () => back.received.length >= 5);
    for (const id of ids) {
      const [done] = await r.waitRows(id, "delivered", (x) => x.status === "Delivered");
      expect(done?.attempts).toBeGreaterThanOrEqual(2);
    }
    expect(subjects(back).sort()).toEqual(["down 0", "down 1", "down 2", "down 3", "down 4"]);
  });

  test("451 after DATA, then 250: retried and delivered exactly once", async () => {
    const out = await sink({ script: { data: "451 4.3.0 Try again later" } });
    const r = await relayWith(smartHost(out.port));
    const id = await queued(r, ["rcpt@example.net"], "4xx then 2xx");
    const [deferred] = await r.waitRows(id, "deferred by the 451", (x) => x.status === "Deferred");
    expect(deferred?.lastError).toMatch(/451 4\.3\.0 Try again later/);
    expect(out.received).toHaveLength(0);

    out.script = {};
    const [done] = await r.waitRows(id, "delivered", (x) => x.status === "Delivered");
    expect(done?.attempts).toBeGreaterThanOrEqual(2);
    expect(subjects(out)).toEqual(["4xx then 2xx"]);
  });

  test("550 for one recipient: that one fails with an NDR to the sender, the other is delivered", async () => {
    const out = await sink({
      script: { rcpt: { "nobody@example.net": "550 5.1.1 User unknown" } },
    });
    const r = await relayWith(smartHost(out.port));
    const id = await queued(r, ["ok@example.net", "nobody@example.net"], "5xx then NDR");
    const rows = await r.waitRows(
      id,
      "final",
      (x) => x.status === "Delivered" || x.status === "Failed",
    );
    const by = Object.fromEntries(rows.map((x) => [x.recipient, x]));
    expect(by["ok@example.net"]?.status).toBe("Delivered");
    expect(by["nobody@example.net"]?.status).toBe("Failed");
    expect(by["nobody@example.net"]?.attempts).toBe(1);

    // The NDR re-enters the relay with MAIL FROM:<> and goes out through the same connector.
    await waitFor("the NDR at the sink", () => out.received.some((m) => m.mailFrom === ""));
    const ndr = out.received.find((m) => m.mailFrom === "")!;
    expect(ndr.rcptTo).toEqual(["app@example.com"]);
    const text = ndr.raw.toString();
    expect(text).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/i);
    expect(text).toMatch(/Final-Recipient: rfc822; ?nobody@example\.net/i);
    expect(text).toMatch(/Action: failed/);
    expect(text).toMatch(/Status: 5\.1\.1/);
    expect(out.received.filter((m) => m.mailFrom !== "")).toHaveLength(1);
  });

  test("DNS SERVFAIL, then the zone answers: deferred with 4.4.3, then delivered by MX", async () => {
    const mx = await sink();
    const dns = await startDnsServer({ "example.org": "SERVFAIL" });
    cleanup.push(() => dns.close());
    const r = await relayWith({
      kind: "SendConnector",
      name: "By MX",
      addressSpaces: [{ domain: "*", cost: 1 }],
      externalDnsServers: [dns.address],
      port: mx.port,
    });
    const id = await queued(r, ["someone@example.org"], "servfail then mx");
    const [deferred] = await r.waitRows(
      id,
      "two failed lookups",
      (x) => x.status === "Deferred" && x.attempts >= 2,
    );
    expect(deferred?.lastError).toMatch(/451 4\.4\.3 DNS lookup failed/);
    expect(mx.received).toHaveLength(0);

    dns.set("example.org", { MX: [{ exchange: "mx.example.org", priority: 10 }] });
    dns.set("mx.example.org", { A: ["127.0.0.1"] });
    await r.waitRows(id, "delivered", (x) => x.status === "Delivered");
    expect(subjects(mx)).toEqual(["servfail then mx"]);
    expect(dns.queries).toContain("MX example.org");
  });

  test("a sink that stalls mid-DATA: the attempt times out, the retry delivers once", async () => {
    // First connection: take part of the data, then neither read on nor answer.
    let sessions = 0;
    const delivered: string[] = [];
    const stall = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      // The stalled session never ends on its own: do not wait 30 s for it at close.
      closeTimeout: 200,
      onData(stream, session, callback) {
        sessions += 1;
        if (sessions === 1) {
          stream.once("data", () => stream.pause());
          return;
        }
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          delivered.push(Buffer.concat(chunks).toString());
          callback(null);
        });
        void session;
      },
    });
    stall.on("error", () => {});
    await new Promise<void>((resolve) => stall.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => stall.close(() => resolve(undefined))));
    const port = (stall.server.address() as { port: number }).port;
    const r = await relayWith(smartHost(port), { smtpTimeoutMs: 1500 });

    // 300 KB: more than one socket read, and a claim-check body rather than an inline one.
    const body = `${"y".repeat(998)}\r\n`.repeat(300);
    const s = await submit(r.port, {
      from: "app@example.com",
      to: ["rcpt@example.net"],
      subject: "stall",
      body,
    });
    expect(s.reply.code).toBe(250);
    const [done] = await r.waitRows(
      s.id!,
      "delivered after the stall",
      (x) => x.status === "Delivered",
    );
    expect(done?.attempts).toBeGreaterThanOrEqual(2);
    expect(sessions).toBeGreaterThanOrEqual(2);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toContain("Subject: stall");
    const deferral = (await r.relay.tracking.events({ messageId: s.id! })).find(
      (e) => e.event === "DEFER",
    );
    expect(deferral?.detail).toMatch(/4\.4\.2|timed? ?out/i);
  });
});
