// A stand-in for the EventBridge API on 127.0.0.1:0 that records PutEvents calls: no EventBridge emulator is among the dev dependencies.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";

export interface PutEventsEntry {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Time?: number;
}

export interface EventBridgeStandIn {
  client: EventBridgeClient;
  /** Every entry EventBridge accepted, in order. */
  accepted: PutEventsEntry[];
  /** Entries to refuse per entry (ThrottlingException in Entries, FailedEntryCount > 0) before accepting. */
  refuseNext: number;
  stop(): Promise<void>;
}

/*
 * Speaks the JSON 1.1 protocol of PutEvents (X-Amz-Target: AWSEvents.PutEvents) with its real
 * answer shape, including partial failure (FailedEntryCount and per-entry ErrorCode), so the real
 * SDK client's signing, serialisation and parsing are exercised. Nothing more of EventBridge
 * (rules, targets) exists here: tests assert what was put on the bus.
 */
export async function startEventBridgeStandIn(): Promise<EventBridgeStandIn> {
  const state = { accepted: [] as PutEventsEntry[], refuseNext: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(body));
      };
      if (req.headers["x-amz-target"] !== "AWSEvents.PutEvents")
        return reply(400, { __type: "UnknownOperationException" });
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        Entries: PutEventsEntry[];
      };
      let failed = 0;
      const entries = input.Entries.map((e, i) => {
        if (state.refuseNext > 0) {
          state.refuseNext--;
          failed++;
          return { ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" };
        }
        state.accepted.push(e);
        return { EventId: `standin-${state.accepted.length}-${i}` };
      });
      reply(200, { FailedEntryCount: failed, Entries: entries });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new EventBridgeClient({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    endpoint,
    maxAttempts: 1,
  });
  return {
    client,
    get accepted() {
      return state.accepted;
    },
    get refuseNext() {
      return state.refuseNext;
    },
    set refuseNext(n: number) {
      state.refuseNext = n;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
