// One log shape for every component: the listener on a loopback socket and the functions' handlers write the same keys, so one Logs Insights query covers both.
import { afterEach, describe, expect, test } from "vitest";
import { MemoryMessageStore } from "#adapters/memory/message-store.ts";
import { MemoryQueue } from "#adapters/memory/queue.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import { EmfMetrics } from "#adapters/observability/metrics.ts";
import type { SubmittedMessage } from "#core/message.ts";
import { RecordCache } from "#core/records/cache.ts";
import { listenerLog } from "#listener/logger.ts";
import { LogProtocolLog } from "#listener/protocol-log.ts";
import { type RunningListener, runListener } from "#listener/run.ts";
import { receiveConnector } from "#test/support/listener.ts";
import { sendConnector, TestRelay } from "#test/support/relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import { RawSmtpClient } from "#test/support/smtp-client.ts";

/** The keys Powertools puts first on every line, in this order, whatever the component. */
const SHAPE = ["level", "message", "timestamp", "service", "sampling_rate"];
/** Added by the Lambda middleware (injectLambdaContext) to a function's lines, and only there. */
const LAMBDA_CONTEXT = [
  "cold_start",
  "function_arn",
  "function_memory_size",
  "function_name",
  "function_request_id",
  "xray_trace_id",
];

type Line = Record<string, unknown>;

function capture() {
  const text: string[] = [];
  return {
    out: { write: (chunk: string) => text.push(chunk) },
    lines: (): Line[] =>
      text
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line),
  };
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function listenerLines(): Promise<Line[]> {
  const log = capture();
  const running: RunningListener = await runListener({
    records: new RecordCache(
      new MemoryRecordStore([
        // Open to loopback clients, with its conversation in the protocol log.
        receiveConnector("Apps", { remoteIpRanges: ["127.0.0.0/8"] }),
        // Bound on its own port but only for 10/8: a loopback client is refused there.
        receiveConnector("Branch", { bindings: ["127.0.0.1:26"], remoteIpRanges: ["10.0.0.0/8"] }),
      ]),
      { ttlMs: 60_000 },
    ),
    queue: new MemoryQueue<SubmittedMessage>(),
    messageStore: new MemoryMessageStore(),
    logger: listenerLog(log.out),
    protocolLog: new LogProtocolLog(listenerLog(log.out)),
    config: { hostName: "relay.test", bindPorts: { "25": 0, "26": 0 } },
  });
  cleanup.push(() => running.stop());
  const port = (declared: number) =>
    running.listener.addresses().find((a) => a.port === declared)!.actualPort;
  const apps = await RawSmtpClient.connect({ host: "127.0.0.1", port: port(25) });
  expect((await apps.read()).code).toBe(220);
  expect((await apps.command("EHLO app.contoso.test")).code).toBe(250);
  await apps.command("QUIT");
  apps.destroy();
  const branch = await RawSmtpClient.connect({ host: "127.0.0.1", port: port(26) });
  expect((await branch.read()).code).toBeGreaterThanOrEqual(400);
  branch.destroy();
  await running.stop();
  return log.lines();
}

async function functionLines(sink: Sink): Promise<Line[]> {
  const log = capture();
  const relay = new TestRelay({
    records: [
      sendConnector({
        name: "Partner",
        dnsRoutingEnabled: false,
        smartHosts: [`127.0.0.1:${sink.port}`],
        addressSpaces: [{ domain: "fabrikam.test", cost: 1 }],
      }),
    ],
    logOut: log.out,
  });
  await relay.submit({ from: "app@contoso.test", to: ["a@fabrikam.test"] });
  // A queue message that is not a submission: the batch handler's own ERROR line.
  await relay.submission.send("not a submission" as never);
  await relay.pump();
  return log.lines();
}

describe("log shape", () => {
  test("listener and function lines share the keys, their order and their level names", async () => {
    const sink = await startSink();
    cleanup.push(() => sink.close());
    const listener = await listenerLines();
    const functions = await functionLines(sink);

    const messages = (lines: Line[]) => lines.map((l) => `${l.service} ${l.level} ${l.message}`);
    expect(messages(listener)).toEqual(
      expect.arrayContaining([
        "relay-listener INFO listener started",
        "relay-listener INFO smtp-receive",
        "relay-listener INFO refused",
      ]),
    );
    expect(messages(functions)).toEqual(
      expect.arrayContaining([
        "relay-route INFO message routed",
        "relay-route ERROR record failed",
        "relay-deliver INFO delivery attempt",
      ]),
    );
    for (const line of [...listener, ...functions]) {
      const keys = Object.keys(line).filter((k) => !LAMBDA_CONTEXT.includes(k));
      expect(keys.slice(0, SHAPE.length)).toEqual(SHAPE);
      expect(line.level).toMatch(/^(INFO|WARN|ERROR)$/);
      expect(new Date(String(line.timestamp)).toISOString()).toBe(line.timestamp);
    }
    // Everything after the shape is the line's own fields, plus Lambda's context in a function.
    const fieldsOf = (l: Line) =>
      Object.keys(l).filter((k) => !SHAPE.includes(k) && !LAMBDA_CONTEXT.includes(k));
    const routed = functions.find((l) => l.message === "message routed")!;
    expect(fieldsOf(routed)).toEqual(["messageId", "jobs", "unroutable"]);
    expect(routed.function_name).toBe("submission");
    const refused = listener.find((l) => l.message === "refused")!;
    expect(fieldsOf(refused)).toEqual(
      expect.arrayContaining(["code", "enhanced", "client", "rule", "session"]),
    );
    const failed = functions.find((l) => l.message === "record failed")!;
    expect(failed).toMatchObject({ queue: "submission", receiveCount: 1 });
    expect(String(failed.error)).toMatch(/^PoisonMessageError: /);
  });

  test("a delivery's counts carry its send connector and next hop (EMF)", async () => {
    const sink = await startSink();
    cleanup.push(() => sink.close());
    const emf = capture();
    const metrics = new EmfMetrics({ service: "Test", out: emf.out });
    const relay = new TestRelay({
      records: [
        sendConnector({
          name: "Partner",
          dnsRoutingEnabled: false,
          smartHosts: [`127.0.0.1:${sink.port}`],
          addressSpaces: [{ domain: "fabrikam.test", cost: 1 }],
        }),
      ],
      metrics,
    });
    await relay.submit({ from: "app@contoso.test", to: ["a@fabrikam.test", "b@fabrikam.test"] });
    await relay.pump();
    metrics.flush();
    const delivered = emf.lines().find((l) => "Delivered" in l);
    expect(delivered).toMatchObject({
      service: "Test",
      SendConnector: "Partner",
      NextHop: `127.0.0.1:${sink.port}`,
      Delivered: 2,
      Routed: 2,
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: "ConnectorRelay",
            Dimensions: [
              ["service"],
              ["service", "SendConnector"],
              ["service", "SendConnector", "NextHop"],
            ],
          },
        ],
      },
    });
  });
});
