// Connection load beyond the receive connector's limits: hundreds of concurrent connections, the excess refused with
// 421 4.3.2 at once, every admitted session completes its mail, and the slots come back when sessions end.
import { afterEach, expect, test } from "vitest";
import { type FaultRelay, smartHostConnector, startFaultRelay } from "#test/support/fault-relay.ts";
import { waitFor } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import { RawSmtpClient, type SmtpReplyLines, transaction } from "#test/support/smtp-client.ts";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

async function setup(receive: Record<string, unknown>): Promise<{ relay: FaultRelay; sink: Sink }> {
  const sink = await startSink();
  cleanup.push(() => sink.close());
  const relay = await startFaultRelay([smartHostConnector(`127.0.0.1:${sink.port}`)], { receive });
  cleanup.push(() => relay.stop());
  return { relay, sink };
}

interface Opened {
  client: RawSmtpClient;
  greeting: SmtpReplyLines;
  from: string;
}

/** Opens `count` connections at once from `from` and reads each greeting (or refusal). */
async function openMany(port: number, count: number, from = "127.0.0.1"): Promise<Opened[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const client = await RawSmtpClient.connect({ host: "127.0.0.1", port, localAddress: from });
      cleanup.push(async () => client.destroy());
      return { client, greeting: await client.read(), from };
    }),
  );
}

async function mailThrough(admitted: Opened[], tag: string): Promise<void> {
  const results = await Promise.all(
    admitted.map(async ({ client }, i) => {
      await client.command("EHLO load.test");
      const t = await transaction(
        client,
        "app@example.com",
        [`rcpt${i}@example.net`],
        `Subject: ${tag} ${i}\r\n\r\nload\r\n`,
      );
      await client.command("QUIT");
      return t.end?.code;
    }),
  );
  expect(results.filter((c) => c !== 250)).toEqual([]);
}

const tagged = (sink: Sink, tag: string) =>
  sink.received.filter((m) => m.raw.toString().includes(`Subject: ${tag} `)).length;

test("300 concurrent connections against maxInboundConnection 100: 100 served, 200 refused with 421 4.3.2", async () => {
  const { relay, sink } = await setup({
    maxInboundConnection: 100,
    maxInboundConnectionPerSource: 1000,
  });
  const opened = await openMany(relay.port, 300);
  const admitted = opened.filter((o) => o.greeting.code === 220);
  const refused = opened.filter((o) => o.greeting.code !== 220);
  expect(admitted).toHaveLength(100);
  expect(refused).toHaveLength(200);
  for (const r of refused) {
    expect(r.greeting.text).toMatch(
      /^421 4\.3\.2 The maximum number of concurrent server connections/,
    );
    await r.client.closed();
  }

  await mailThrough(admitted, "total");
  await waitFor("100 messages at the sink", () => tagged(sink, "total") === 100);

  // The ended sessions gave their slots back: a second wave of 100 is served in full.
  for (const a of admitted) await a.client.closed();
  await waitFor("sessions released", () => relay.relay.listener.sessionCount === 0);
  const again = await openMany(relay.port, 100);
  expect(again.filter((o) => o.greeting.code === 220)).toHaveLength(100);
});

test("a noisy source hits maxInboundConnectionPerSource; another source is still served", async () => {
  const { relay, sink } = await setup({
    maxInboundConnection: 5000,
    maxInboundConnectionPerSource: 50,
  });
  const [noisy, quiet] = await Promise.all([
    openMany(relay.port, 150, "127.0.0.1"),
    openMany(relay.port, 50, "127.0.0.2"),
  ]);
  const noisyAdmitted = noisy.filter((o) => o.greeting.code === 220);
  expect(noisyAdmitted).toHaveLength(50);
  for (const r of noisy.filter((o) => o.greeting.code !== 220))
    expect(r.greeting.text).toMatch(
      /^421 4\.3\.2 The maximum number of concurrent connections from your address/,
    );
  expect(quiet.filter((o) => o.greeting.code === 220)).toHaveLength(50);

  await mailThrough([...noisyAdmitted, ...quiet], "source");
  await waitFor("100 messages at the sink", () => tagged(sink, "source") === 100);
});
