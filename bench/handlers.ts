// Handler cost: CPU per message of the route and deliver Lambda handlers on in-memory adapters, delivering to a real loopback sink.
//
// Run as its own process (`node bench/handlers.ts --sink-port P --messages N --out FILE`) so
// process.cpuUsage() sees only the handlers; the sink is smtp-sink in another process. Logs go to
// stdout at Powertools' default level, as in Lambda.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { NodeDnsResolver } from "#adapters/dns/resolver.ts";
import { MemoryMessageStore } from "#adapters/memory/message-store.ts";
import { MemoryQueue } from "#adapters/memory/queue.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import { MemorySecretStore } from "#adapters/memory/secret-store.ts";
import { MemoryTrackingStore } from "#adapters/memory/tracking-store.ts";
import { NodemailerCourier } from "#adapters/smtp/courier.ts";
import { newMessageId } from "#core/ids.ts";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import { RecordCache } from "#core/records/cache.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { makeRouteHandler } from "#functions/route/handler.ts";
import { lambdaContext, sqsRecord } from "#test/support/lambda.ts";
import { messageFor } from "#test/support/smtp-load.ts";
import { round } from "./stats.ts";

export interface HandlerFigures {
  messages: number;
  sizeBytes: number;
  /** CPU ms per message of the route handler (batches of 10, as the stack's event source). */
  routeCpuMs: number;
  /** CPU ms per message of the deliver handler (batches of 5), including its SMTP client work. */
  deliverCpuMs: number;
  /** CPU ms per message of the SMTP courier alone sending the same bodies: the network part. */
  courierCpuMs: number;
  /** deliverCpuMs − courierCpuMs: the handler's own work, network excluded. */
  deliverExclNetworkCpuMs: number;
  /** routeCpuMs + deliverExclNetworkCpuMs: the "route+deliver" figure. */
  routePlusDeliverCpuMs: number;
}

const FROM = "app@example.com";
const TO = "rcpt@example.net";

function submitted(i: number, size: number): SubmittedMessage {
  const raw = Buffer.from(messageFor(i, size, FROM, TO));
  const id = newMessageId();
  return {
    id,
    receivedAt: new Date().toISOString(),
    envelope: { mailFrom: FROM, rcptTo: [TO] },
    size: raw.byteLength,
    body: { inline: raw.toString("base64") },
    origin: {
      type: "smtp",
      receiveConnector: "Load",
      clientIp: "127.0.0.1",
      clientHelo: "bench",
      tls: false,
    },
    subject: `load ${i}`,
  };
}

function events<T>(name: string, queue: MemoryQueue<T>, batch: number): SQSEvent[] {
  const records: SQSRecord[] = queue
    .receive(Number.MAX_SAFE_INTEGER)
    .map((m) => sqsRecord(name, m as never));
  const out: SQSEvent[] = [];
  for (let i = 0; i < records.length; i += batch)
    out.push({ Records: records.slice(i, i + batch) });
  return out;
}

/** CPU ms used while `work` runs, in this process (all threads). */
async function cpuMs(work: () => Promise<void>): Promise<number> {
  const c0 = process.cpuUsage();
  await work();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export async function measureHandlers(o: {
  sinkPort: number;
  messages: number;
  size: number;
}): Promise<HandlerFigures> {
  const submission = new MemoryQueue<SubmittedMessage>();
  const delivery = new MemoryQueue<DeliveryJob>();
  const courier = new NodemailerCourier();
  const deps = {
    records: new RecordCache(
      new MemoryRecordStore([
        {
          kind: "SendConnector",
          name: "Sink",
          addressSpaces: [{ domain: "*", cost: 1 }],
          dnsRoutingEnabled: false,
          smartHosts: [`127.0.0.1:${o.sinkPort}`],
        },
      ]),
      { ttlMs: 30_000 },
    ),
    tracking: new MemoryTrackingStore(),
    messages: new MemoryMessageStore(),
    submissionQueue: submission,
    deliveryQueue: delivery,
    clock: { now: () => new Date() },
    hostName: "bench.test",
  };
  const route = makeRouteHandler(deps);
  const deliver = makeDeliverHandler({
    ...deps,
    dns: new NodeDnsResolver(),
    courier,
    secrets: new MemorySecretStore(),
  });
  const ctx = lambdaContext("bench");

  const pass = async (n: number, offset: number) => {
    for (let i = 0; i < n; i++) await submission.send(submitted(offset + i, o.size));
    const routeEvents = events("submission", submission, 10);
    const routeMs = await cpuMs(async () => {
      for (const e of routeEvents) await route(e, ctx);
    });
    const deliverEvents = events("delivery", delivery, 5);
    if (deliverEvents.reduce((a, e) => a + e.Records.length, 0) !== n)
      throw new Error("route did not emit one delivery job per message");
    // The stack's deliver event source runs up to 10 batches at once (local mode 16).
    const deliverMs = await cpuMs(() => inParallel(deliverEvents, 10, (e) => deliver(e, ctx)));
    const delivered = (await deps.tracking.listActive()).length === 0;
    if (!delivered) throw new Error("not every message was delivered to the sink");
    return { routeMs, deliverMs };
  };

  // Warm-up: JIT, the record cache, first connections.
  await pass(Math.min(200, o.messages), 0);
  const { routeMs, deliverMs } = await pass(o.messages, 1_000_000);

  // The same transactions through the courier alone, at the same parallelism (10 batches × 5).
  const raw = Buffer.from(messageFor(0, o.size, FROM, TO));
  const requests = Array.from({ length: o.messages }, () => ({
    host: "127.0.0.1",
    port: o.sinkPort,
    ehloName: "bench.test",
    tls: { mode: "opportunistic" as const, validate: "none" as const },
    mailFrom: FROM,
    recipients: [TO],
    raw,
  }));
  const courierMs = await cpuMs(() =>
    inParallel(requests, 50, async (r) => {
      const [outcome] = await courier.send(r);
      if (outcome?.status !== "delivered") throw new Error(`courier: ${JSON.stringify(outcome)}`);
    }),
  );

  const per = (ms: number) => round(ms / o.messages, 3);
  const deliverExcl = Math.max(0, per(deliverMs) - per(courierMs));
  return {
    messages: o.messages,
    sizeBytes: o.size,
    routeCpuMs: per(routeMs),
    deliverCpuMs: per(deliverMs),
    courierCpuMs: per(courierMs),
    deliverExclNetworkCpuMs: round(deliverExcl, 3),
    routePlusDeliverCpuMs: round(per(routeMs) + deliverExcl, 3),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      "sink-port": { type: "string" },
      messages: { type: "string", default: "2000" },
      size: { type: "string", default: "10240" },
      out: { type: "string" },
    },
  });
  const figures = await measureHandlers({
    sinkPort: Number(values["sink-port"]),
    messages: Number(values.messages),
    size: Number(values.size),
  });
  if (values.out) await writeFile(values.out, JSON.stringify(figures));
  else process.stderr.write(`${JSON.stringify(figures)}\n`);
}
