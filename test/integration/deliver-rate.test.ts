// maxMessagesPerMinute on the memory relay and a hand-moved clock: a burst reaches the sink at the limit per minute, none of it counted as attempts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendConnector, TestRelay } from "#test/support/relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let sink: Sink;

beforeAll(async () => {
  sink = await startSink();
});

afterAll(async () => {
  await sink.close();
});

describe("messages per minute to one next hop", () => {
  it("a burst of 8 with maxMessagesPerMinute 3: never more than 3 in any minute at the sink", async () => {
    const relay = new TestRelay({
      nextHops: true,
      records: [
        sendConnector({
          name: "Smart host",
          dnsRoutingEnabled: false,
          smartHosts: [`127.0.0.1:${sink.port}`],
          maxMessagesPerMinute: 3,
        }),
      ],
    });
    const messages = [];
    for (let i = 0; i < 8; i++)
      messages.push(await relay.submit({ from: "app@contoso.test", to: [`r${i}@fabrikam.test`] }));
    // Every 20 s of the test clock: deliver what is due, note what reached the sink.
    const perStep: number[] = [];
    for (let step = 0; step < 12 && sink.received.length < 8; step++) {
      const before = sink.received.length;
      await relay.pump(50);
      perStep.push(sink.received.length - before);
      relay.advance(20);
    }
    console.info(
      `rate: messages at the sink per 20 s of the test clock ${JSON.stringify(perStep)}`,
    );
    expect(sink.received).toHaveLength(8);
    // Any 60 s of the clock spans at most three consecutive steps.
    for (let i = 0; i < perStep.length; i++)
      expect(perStep.slice(i, i + 3).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3);
    // Held back for the rate, the jobs were not attempts: each recipient was tried once.
    for (const [i, m] of messages.entries())
      expect(await relay.row(m.id, `r${i}@fabrikam.test`)).toMatchObject({
        status: "Delivered",
        attempts: 1,
      });
  });
});
