// A route + deliver pipeline on memory adapters, real DNS and SMTP adapters and a hand-moved clock, driven through the Lambda handlers.
import { Logger } from "@aws-lambda-powertools/logger";
import { mailauthDkim } from "#adapters/dkim/mailauth-signer.ts";
import { NodeDnsResolver } from "#adapters/dns/resolver.ts";
import { MemoryHopStateStore } from "#adapters/memory/hop-state-store.ts";
import { MemoryMessageStore } from "#adapters/memory/message-store.ts";
import { MemoryQueue } from "#adapters/memory/queue.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import { MemorySecretStore } from "#adapters/memory/secret-store.ts";
import { MemoryTrackingStore } from "#adapters/memory/tracking-store.ts";
import { createLogger, type LineSink } from "#adapters/observability/logger.ts";
import { NodemailerCourier } from "#adapters/smtp/courier.ts";
import { newMessageId } from "#core/ids.ts";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import type { Metrics } from "#core/metrics.ts";
import { NextHopGovernor } from "#core/next-hop/governor.ts";
import type { SmtpCourier } from "#core/ports.ts";
import { RecordCache } from "#core/records/cache.ts";
import { readBody } from "#core/usecases/body.ts";
import type { DeliverDeps, SendProtocolLogLine, UseCaseLog } from "#core/usecases/deps.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { makeRouteHandler } from "#functions/route/handler.ts";
import { ManualClock } from "./clock.ts";
import { type BatchRun, runBatch } from "./lambda.ts";
import { submittedMessage } from "./submitted.ts";

export interface RelayOptions {
  /** Raw records (send connectors, TransportSettings) as an admin would store them. */
  records: Record<string, unknown>[];
  secrets?: Record<string, string>;
  /** Trust anchor for certificate-validating connectors (the test CA). */
  ca?: string;
  maxReceiveCount?: number;
  inlineBodyLimit?: number;
  start?: string;
  /** Where route and deliver log (as relay-route and relay-deliver); default: nowhere. */
  logOut?: LineSink;
  metrics?: Metrics;
  /** Wraps the SMTP courier, e.g. in the port-25 guard of the AWS wiring. */
  wrapCourier?: (courier: SmtpCourier) => SmtpCourier;
  /** MTA-STS and DANE lookups and the policy cache (MX delivery's TLS policy). */
  tlsPolicy?: DeliverDeps["tlsPolicy"];
  /** Receives the use cases' log lines instead of the silent logger. */
  log?: UseCaseLog;
  /** Route signs with the DkimSigningConfig records, keys from `secrets`, as both runtimes wire it. */
  dkim?: boolean;
  /** Next-hop limits and circuits, in memory on the test clock (as both runtimes wire them, shared). */
  nextHops?: boolean;
  /** The suppression list and the delivery event publisher deliver uses (both runtimes wire them). */
  suppression?: DeliverDeps["suppression"];
  events?: DeliverDeps["events"];
}

export interface MessageInput {
  from: string;
  to: string[];
  subject?: string;
  body?: string;
  receiveConnector?: string;
}

export class TestRelay {
  readonly clock: ManualClock;
  readonly submissionDlq = new MemoryQueue<unknown>();
  readonly deliveryDlq = new MemoryQueue<unknown>();
  readonly submission: MemoryQueue<SubmittedMessage>;
  readonly delivery: MemoryQueue<DeliveryJob>;
  readonly tracking = new MemoryTrackingStore();
  /** The next-hop governor deliver uses, with `nextHops`. */
  readonly nextHops?: NextHopGovernor;
  readonly messages = new MemoryMessageStore();
  readonly records: MemoryRecordStore;
  readonly secrets: MemorySecretStore;
  readonly protocol: SendProtocolLogLine[] = [];
  readonly route: ReturnType<typeof makeRouteHandler>;
  readonly deliver: ReturnType<typeof makeDeliverHandler>;

  constructor(options: RelayOptions) {
    this.clock = new ManualClock(options.start);
    const maxReceiveCount = options.maxReceiveCount ?? 3;
    const queue = <T>(deadLetter: MemoryQueue<unknown>) =>
      new MemoryQueue<T>({
        clock: this.clock,
        visibilityTimeoutSeconds: 30,
        maxReceiveCount,
        deadLetter,
      });
    this.submission = queue<SubmittedMessage>(this.submissionDlq);
    this.delivery = queue<DeliveryJob>(this.deliveryDlq);
    this.records = new MemoryRecordStore(options.records);
    this.secrets = new MemorySecretStore(options.secrets ?? {});
    if (options.nextHops)
      this.nextHops = new NextHopGovernor(new MemoryHopStateStore(this.clock), this.clock);
    const { logOut } = options;
    const logger = (service: string) =>
      logOut
        ? createLogger(service, logOut)
        : new Logger({ serviceName: service, logLevel: "SILENT" });
    const common = {
      records: new RecordCache(this.records, { ttlMs: 0, clock: this.clock }),
      tracking: this.tracking,
      messages: this.messages,
      submissionQueue: this.submission,
      deliveryQueue: this.delivery,
      clock: this.clock,
      hostName: "relay.test",
      maxReceiveCount,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      logger,
      ...(options.log ? { log: options.log } : {}),
      ...(options.inlineBodyLimit !== undefined
        ? { inlineBodyLimit: options.inlineBodyLimit }
        : {}),
    };
    this.route = makeRouteHandler({
      ...common,
      logger: logger("relay-route"),
      ...(options.dkim ? { dkim: mailauthDkim(this.secrets) } : {}),
    });
    const courier = new NodemailerCourier({
      connectionTimeoutMs: 3000,
      greetingTimeoutMs: 3000,
      socketTimeoutMs: 5000,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    this.deliver = makeDeliverHandler({
      ...common,
      logger: logger("relay-deliver"),
      dns: new NodeDnsResolver({ timeoutMs: 300, tries: 1 }),
      courier: options.wrapCourier ? options.wrapCourier(courier) : courier,
      secrets: this.secrets,
      protocolLog: { write: (line) => this.protocol.push(line) },
      random: () => 0.5,
      ...(options.tlsPolicy ? { tlsPolicy: options.tlsPolicy } : {}),
      ...(this.nextHops ? { nextHops: this.nextHops } : {}),
      ...(options.suppression ? { suppression: options.suppression } : {}),
      ...(options.events ? { events: options.events } : {}),
    });
  }

  /** Queues a message as the listener would: raw body inline, origin SMTP. */
  async submit(input: MessageInput): Promise<SubmittedMessage> {
    const id = newMessageId(this.clock.now());
    const raw = [
      `From: <${input.from}>`,
      `To: ${input.to.map((t) => `<${t}>`).join(", ")}`,
      `Subject: ${input.subject ?? "Quarterly report"}`,
      `Message-ID: <${id}@contoso.test>`,
      `Date: ${this.clock.now().toUTCString()}`,
      "",
      input.body ?? "Hello.\r\n.A line that starts with a dot.",
      "",
    ].join("\r\n");
    const message = submittedMessage({
      id,
      receivedAt: this.clock.now(),
      envelope: { mailFrom: input.from, rcptTo: input.to },
      raw,
      ...(input.receiveConnector ? { receiveConnector: input.receiveConnector } : {}),
      subject: input.subject ?? "Quarterly report",
      internetMessageId: `<${id}@contoso.test>`,
    });
    await this.submission.send(message);
    return message;
  }

  runRoute(): Promise<BatchRun> {
    return runBatch(this.submission, this.route, { name: "submission" });
  }

  runDeliver(): Promise<BatchRun> {
    return runBatch(this.delivery, this.deliver, { name: "delivery" });
  }

  /** Routes and delivers whatever is visible now, until both queues have nothing visible. */
  async pump(maxRounds = 20): Promise<void> {
    for (let i = 0; i < maxRounds; i++) {
      const r = await this.runRoute();
      const d = await this.runDeliver();
      if (r.received === 0 && d.received === 0) return;
    }
    throw new Error(`queues still busy after ${maxRounds} rounds`);
  }

  advance(seconds: number): void {
    this.clock.advance(seconds * 1000);
  }

  row(messageId: string, recipient: string) {
    return this.tracking.get(messageId, recipient);
  }

  /** Submissions the relay made itself (NDRs, delay DSNs) still in the submission queue. */
  reports(): SubmittedMessage[] {
    return this.submission
      .peek()
      .map((m) => m.body)
      .filter((m) => m.origin.type === "dsn");
  }
}

/** The raw bytes of a queued body. */
export async function rawOf(relay: TestRelay, m: { body: SubmittedMessage["body"] }) {
  return Buffer.from(await readBody(relay.messages, m.body));
}

export function sendConnector(fields: Record<string, unknown>): Record<string, unknown> {
  return { kind: "SendConnector", addressSpaces: [{ domain: "*", cost: 1 }], ...fields };
}
