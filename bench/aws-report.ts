// The AWS-shape result: accept rate and CPU of the listener, handler durations, requests per message, usage and the cost per million.
import type { RelayConfig } from "#infra/config.ts";
import { type CostPerMillion, costPerMillion, type UsagePerMessage } from "./aws-cost.ts";
import type { MeterReport } from "./aws-meter.ts";
import { AWS_PRICES, PRICES_CHECKED } from "./aws-prices.ts";
import { type Percentiles, percentiles, round } from "./stats.ts";
import type { Shape } from "./throughput.ts";

/** START, END and REPORT lines Lambda writes per invocation (about 300 bytes together; not measured here). */
export const LAMBDA_PLATFORM_LOG_BYTES = 300;
/** The listener's accept goal: messages per second per vCPU. */
export const LISTENER_GOAL_PER_CPU = 1000;

type Invocations = Array<{
  ms: number;
  records: number;
  awaitedMs: number;
  waits: number;
  calls: number;
}>;

/**
 * In-region latency assumed for one DynamoDB, SQS or S3 call from Lambda (single-digit to low
 * tens of ms). The emulators share this machine with the handlers, so their answers are slower
 * than AWS's: the billed duration is modelled as the handler's own time (wall time with no AWS
 * call in flight, which includes SMTP to the sink) plus this per call on one record's path: the
 * records of a batch run in parallel, each making its calls one after another, so the chain is
 * the invocation's calls ÷ its records (or its separate waits on AWS, if more).
 */
export const AWS_CALL_MS = 10;

export interface HandlerFigures {
  memoryMiB: number;
  invocations: number;
  messagesPerInvocation: number;
  /** Wall time of each invocation here, on the emulators. */
  msPerInvocation: Percentiles;
  /** Of that, time with no AWS call in flight (the handler's own work and SMTP). */
  ownMsPerInvocation: Percentiles;
  /** Waits on AWS per invocation (calls in flight together count once). */
  awsWaitsPerInvocation: number;
  /** AWS calls per invocation. */
  awsCallsPerInvocation: number;
  /** Billed duration per invocation in AWS: own time + the calls on one record's path × AWS_CALL_MS, rounded up to 1 ms. */
  modelledMsPerInvocation: number;
  msPerMessage: number;
  gbSecondsPerMessage: number;
}

export interface AwsShapeResult {
  bench: "connector-relay AWS shape";
  params: {
    messages: number;
    sizeBytes: number;
    largeMessages: number;
    largeSizeBytes: number;
    sessions: number;
    /** What the sink counted: above `messages` when a transaction was sent twice. */
    deliveredAtSink: number;
  };
  listener: {
    accept: Record<
      Shape,
      {
        msgsPerSec: number;
        cpuMsPerMsg: number;
        /** The kernel's part of cpuMsPerMsg (socket reads and writes). */
        systemMsPerMsg?: number;
        msgsPerSecPerCpu?: number;
      }
    >;
    /** Messages per SQS send request (group commit shares SendMessageBatch requests). */
    messagesPerSend: number;
    goal: string;
    met: boolean;
  };
  handlers: { route: HandlerFigures; deliver: HandlerFigures; drainSeconds: number };
  /** Calls per message by caller and "service:Action"; SQS as billed (64 KB chunks); empty polls left out. */
  requestsPerMessage: Record<"listener" | "route" | "deliver" | "pollers", Record<string, number>>;
  usage: UsagePerMessage;
  cost: CostPerMillion;
  prices: { checked: string; region: "us-east-1" } & typeof AWS_PRICES;
}

export interface AwsShapeInput {
  params: AwsShapeResult["params"];
  config: RelayConfig;
  accept: Record<Shape, { msgsPerSec: number; cpuMsPerMsg: number; systemMsPerMsg?: number }>;
  listener: MeterReport;
  listenerLogBytes: number;
  route: { invocations: Invocations; meter: MeterReport };
  deliver: { invocations: Invocations; meter: MeterReport };
  pollers: MeterReport;
  functionLogBytes: { route: number; deliver: number };
  smtpBytes: { out: number; in: number };
  drainSeconds: number;
}

function handler(inv: Invocations, memoryMiB: number, messages: number): HandlerFigures {
  const own = inv.map((i) => Math.max(0, i.ms - i.awaitedMs));
  const chain = (i: Invocations[number]) =>
    Math.max(i.waits, Math.ceil(i.calls / Math.max(1, i.records)));
  const billed = inv.map((i, k) => Math.ceil((own[k] ?? 0) + chain(i) * AWS_CALL_MS));
  const billedMs = billed.reduce((a, b) => a + b, 0);
  const count = Math.max(1, inv.length);
  return {
    memoryMiB,
    invocations: inv.length,
    messagesPerInvocation: round(inv.reduce((a, i) => a + i.records, 0) / count),
    msPerInvocation: percentiles(inv.map((i) => i.ms)),
    ownMsPerInvocation: percentiles(own),
    awsWaitsPerInvocation: round(inv.reduce((a, i) => a + i.waits, 0) / count),
    awsCallsPerInvocation: round(inv.reduce((a, i) => a + i.calls, 0) / count),
    modelledMsPerInvocation: round(billedMs / count, 1),
    msPerMessage: round(billedMs / messages, 2),
    gbSecondsPerMessage: round(((billedMs / 1000) * memoryMiB) / 1024 / messages, 6),
  };
}

/** Calls per message of one caller: SQS as billed, the pollers' empty receives left out. */
function perMessage(m: MeterReport, messages: number, only?: RegExp): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, c] of Object.entries(m.calls)) {
    if (only && !only.test(key)) continue;
    const billed = key === "sqs:ReceiveMessage" ? c.billed - m.emptyReceives : c.billed;
    out[key] = round(billed / messages, 3);
  }
  return out;
}

const sum = (m: MeterReport, match: RegExp, field: "billed" | "wireBytes") =>
  Object.entries(m.calls)
    .filter(([k]) => match.test(k))
    .reduce(
      (a, [k, c]) =>
        a + c[field] - (field === "billed" && k === "sqs:ReceiveMessage" ? m.emptyReceives : 0),
      0,
    );

export function awsShapeFigures(i: AwsShapeInput): AwsShapeResult {
  const n = i.params.messages;
  const meters = [i.listener, i.route.meter, i.deliver.meter];
  const pollerCalls = /^sqs:(ReceiveMessage|DeleteMessageBatch)$/;
  const route = handler(i.route.invocations, i.config.route.memoryMiB, n);
  const deliver = handler(i.deliver.invocations, i.config.deliver.memoryMiB, n);
  const invocations = route.invocations + deliver.invocations;
  const usage: UsagePerMessage = {
    sqsRequests:
      (meters.reduce((a, m) => a + sum(m, /^sqs:/, "billed"), 0) +
        sum(i.pollers, pollerCalls, "billed")) /
      n,
    dynamoWriteUnits: meters.reduce((a, m) => a + m.dynamodb.writeUnits, 0) / n,
    dynamoReadUnits: meters.reduce((a, m) => a + m.dynamodb.readUnits, 0) / n,
    dynamoStoredBytes: meters.reduce((a, m) => a + m.storedBytes, 0) / n,
    s3Puts: meters.reduce((a, m) => a + sum(m, /^s3:PutObject$/, "billed"), 0) / n,
    s3Gets: meters.reduce((a, m) => a + sum(m, /^s3:(GetObject|HeadObject)$/, "billed"), 0) / n,
    secretsCalls: meters.reduce((a, m) => a + sum(m, /^secretsmanager:/, "billed"), 0) / n,
    lambda: {
      invocations: invocations / n,
      gbSeconds: route.gbSecondsPerMessage + deliver.gbSecondsPerMessage,
    },
    // The listener task and deliver run in private subnets: what they send to AWS APIs without a
    // gateway endpoint (SQS, Secrets Manager, the listener's logs) and deliver's SMTP cross the NAT.
    // Route runs outside the VPC; the pollers are Lambda's service; S3 and DynamoDB use gateway endpoints.
    natBytes:
      (sum(i.listener, /^(sqs|secretsmanager):/, "wireBytes") +
        i.listenerLogBytes +
        sum(i.deliver.meter, /^(sqs|secretsmanager):/, "wireBytes") +
        i.smtpBytes.out +
        i.smtpBytes.in) /
      n,
    internetBytes: i.smtpBytes.out / n,
    logBytes:
      (i.listenerLogBytes +
        i.functionLogBytes.route +
        i.functionLogBytes.deliver +
        invocations * LAMBDA_PLATFORM_LOG_BYTES) /
      n,
  };
  const rounded = Object.fromEntries(
    Object.entries(usage).map(([k, v]) => [
      k,
      typeof v === "number"
        ? round(v, 4)
        : { invocations: round(v.invocations, 4), gbSeconds: round(v.gbSeconds, 6) },
    ]),
  ) as unknown as UsagePerMessage;
  const accept = Object.fromEntries(
    Object.entries(i.accept).map(([shape, a]) => [
      shape,
      {
        msgsPerSec: round(a.msgsPerSec, 0),
        cpuMsPerMsg: round(a.cpuMsPerMsg, 3),
        ...(a.systemMsPerMsg !== undefined ? { systemMsPerMsg: round(a.systemMsPerMsg, 3) } : {}),
        msgsPerSecPerCpu: round(1000 / a.cpuMsPerMsg, 0),
      },
    ]),
  ) as AwsShapeResult["listener"]["accept"];
  return {
    bench: "connector-relay AWS shape",
    params: i.params,
    listener: {
      accept,
      messagesPerSend: round(
        n /
          ((i.listener.calls["sqs:SendMessage"]?.calls ?? 0) +
            (i.listener.calls["sqs:SendMessageBatch"]?.calls ?? 0) || 1),
        2,
      ),
      goal: `≥ ${LISTENER_GOAL_PER_CPU} msgs/s per CPU`,
      met: Object.values(accept).every((a) => (a.msgsPerSecPerCpu ?? 0) >= LISTENER_GOAL_PER_CPU),
    },
    handlers: { route, deliver, drainSeconds: round(i.drainSeconds, 1) },
    requestsPerMessage: {
      listener: perMessage(i.listener, n),
      route: perMessage(i.route.meter, n),
      deliver: perMessage(i.deliver.meter, n),
      pollers: perMessage(i.pollers, n, pollerCalls),
    },
    usage: rounded,
    cost: costPerMillion(usage),
    prices: { checked: PRICES_CHECKED, region: "us-east-1", ...AWS_PRICES },
  };
}

export function awsShapeSummary(r: AwsShapeResult): string {
  const lines = [
    `AWS shape: ${r.params.messages} messages (${r.params.largeMessages} of ${r.params.largeSizeBytes} B through S3, the rest ${r.params.sizeBytes} B), on fauxqs and dynalite`,
  ];
  for (const [shape, a] of Object.entries(r.listener.accept))
    lines.push(
      `  listener ${shape.padEnd(8)} ${a.msgsPerSec} msgs/s, ${a.cpuMsPerMsg} ms CPU/msg = ${a.msgsPerSecPerCpu} msgs/s per CPU (${r.listener.goal}: ${r.listener.met ? "met" : "MISSED"})`,
    );
  lines.push(`  listener sends ${r.listener.messagesPerSend} messages per SQS request`);
  for (const fn of ["route", "deliver"] as const) {
    const h = r.handlers[fn];
    lines.push(
      `  ${fn.padEnd(8)} ${h.invocations} invocations × ${h.messagesPerInvocation} msgs: wall p50 ${h.msPerInvocation.p50} ms p99 ${h.msPerInvocation.p99} ms here, own p50 ${h.ownMsPerInvocation.p50} ms, ${h.awsWaitsPerInvocation} AWS waits; modelled ${h.modelledMsPerInvocation} ms = ${h.msPerMessage} ms and ${h.gbSecondsPerMessage} GB-s per message`,
    );
  }
  for (const [caller, calls] of Object.entries(r.requestsPerMessage))
    lines.push(
      `  ${caller.padEnd(8)} per message: ${Object.entries(calls)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
  const u = r.usage;
  lines.push(
    `  usage per message: SQS ${u.sqsRequests} billed requests, DynamoDB ${u.dynamoWriteUnits} WRU ${u.dynamoReadUnits} RRU, S3 ${u.s3Puts} PUT ${u.s3Gets} GET, NAT ${Math.round(u.natBytes)} B, logs ${Math.round(u.logBytes)} B`,
  );
  lines.push(
    `  cost per million: $${r.cost.total} (without NAT gateway: $${r.cost.totalWithoutNat}) = ${Object.entries(
      r.cost.items,
    )
      .map(([k, v]) => `${k} $${v}`)
      .join(", ")}`,
  );
  return lines.join("\n");
}
