// What the route and deliver use cases need from a runtime: ports plus a few tunables, all injected.

import type { EventPublisher } from "../events/delivery-event.ts";
import { type Log, SILENT_LOG } from "../log.ts";
import type { DeliveryJob, SubmittedMessage } from "../message.ts";
import type { Metrics } from "../metrics.ts";
import type { NextHopGovernor } from "../next-hop/governor.ts";
import type {
  Clock,
  DnsResolver,
  MessageStore,
  QueueProducer,
  SecretStore,
  SmtpCourier,
  TrackingStore,
} from "../ports.ts";
import type { RecordSet } from "../records/record-set.ts";
import type { SuppressionStore } from "../suppression/list.ts";
import type { MtaStsPolicyStore, TlsPolicyLookups } from "../tls-policy/ports.ts";
import type { DkimDeps } from "./dkim.ts";

/** Structured logging, shaped so Powertools' Logger fits (message first, then extra attributes). */
export type UseCaseLog = Log;
export { SILENT_LOG };

/** The validated records; RecordCache fits (it refreshes after its TTL). */
export interface RecordSource {
  get(): Promise<RecordSet>;
}

/** One line of a send connector's protocol log (Exchange's SmtpSend log, enabled per connector with Verbose). */
export interface SendProtocolLogLine {
  at: Date;
  connector: string;
  /** One id per SMTP session, so interleaved sessions can be told apart. */
  session: string;
  remote: string;
  /** ">" client command, "<" server reply, "*" client-side event (connect, TLS, errors). */
  direction: "<" | ">" | "*";
  line: string;
}

export interface SendProtocolLog {
  write(line: SendProtocolLogLine): void;
}

/** Shared by route, deliver and the DSN they emit. */
export interface RelayDeps {
  records: RecordSource;
  tracking: TrackingStore;
  messages: MessageStore;
  /** NDRs and delay DSNs re-enter here and are routed like any message. */
  submissionQueue: QueueProducer<SubmittedMessage>;
  deliveryQueue: QueueProducer<DeliveryJob>;
  clock: Clock;
  log?: UseCaseLog;
  /** Counts of routed, delivered, deferred, failed and expired recipients (core/usecases/counts.ts), DkimSignFailed. */
  metrics?: Metrics;
  /** This machine's name, used when TransportSettings.hostName is unset (EHLO, Reporting-MTA). */
  hostName?: string;
  /**
   * Raw bodies up to this many bytes travel inline (base64) in queue messages; larger ones go to
   * the message store (claim check). Default 192 KiB: 256 KiB of base64, inside the classic SQS
   * message limit with room for the envelope.
   */
  inlineBodyLimit?: number;
  /**
   * The queue's redrive maxReceiveCount. On that receive a failing message's reason is written to
   * tracking before SQS moves it to the dead-letter queue. Default DEFAULT_MAX_RECEIVE_COUNT.
   */
  maxReceiveCount?: number;
}

export interface RouteDeps extends RelayDeps {
  /** DKIM signing; absent, mail goes unsigned. */
  dkim?: DkimDeps;
}

export interface DeliverDeps extends RelayDeps {
  dns: DnsResolver;
  courier: SmtpCourier;
  secrets: SecretStore;
  protocolLog?: SendProtocolLog;
  /** SMTP connections tried per attempt across MX hosts, addresses and smart hosts. Default 10. */
  maxConnectionsPerAttempt?: number;
  /** MTA-STS and DANE for MX delivery; without it MX delivery uses the connector's own TLS. */
  tlsPolicy?: { lookups: TlsPolicyLookups; mtaStsStore: MtaStsPolicyStore };
  /** Limits, throttle backoff and circuits per next hop, shared by every deliver invocation; absent: none. */
  nextHops?: NextHopGovernor;
  /** For shuffling MX hosts of equal preference; injectable so tests can fix the order. */
  random?: () => number;
  /** The suppression list; absent, nothing is suppressed or recorded. */
  suppression?: SuppressionStore;
  /** Where delivery events go (EventBridge, the local webhook outbox); absent, none are made. */
  events?: EventPublisher;
}

export const DEFAULT_INLINE_BODY_LIMIT = 192 * 1024;

export const logOf = (deps: RelayDeps): UseCaseLog => deps.log ?? SILENT_LOG;
