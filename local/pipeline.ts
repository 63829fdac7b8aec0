// Local mode's delivery side: the queues (served from the listener's thread), tracking, and the route and deliver workers that
// feed the Lambda handlers SQS-shaped batches. Runs in its own thread beside the listener.
import { hostname } from "node:os";
import { mailauthDkim } from "#adapters/dkim/mailauth-signer.ts";
import { NodeDnsResolver } from "#adapters/dns/resolver.ts";
import { BACKSTOP_CHECKPOINT_PAGES, startCheckpointer } from "#adapters/local/checkpointer.ts";
import { LocalEventOutbox } from "#adapters/local/event-outbox.ts";
import { LocalHopStateStore } from "#adapters/local/hop-state-store.ts";
import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { LocalMtaStsPolicyStore } from "#adapters/local/mta-sts-store.ts";
import { LocalQueue, openQueueStore, type QueueStore } from "#adapters/local/queue.ts";
import type { QueueService } from "#adapters/local/queue-server.ts";
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import { LocalSuppressionStore } from "#adapters/local/suppression-store.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { createLogger, type LineSink } from "#adapters/observability/logger.ts";
import { EmfMetrics, PERIODIC_FLUSH_MS } from "#adapters/observability/metrics.ts";
import { NodemailerCourier } from "#adapters/smtp/courier.ts";
import { NetworkTlsPolicyLookups } from "#adapters/tls-policy/lookups.ts";
import type { Log } from "#core/log.ts";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import { NextHopGovernor } from "#core/next-hop/governor.ts";
import { DEFAULT_MAX_RECEIVE_COUNT } from "#core/queue-limits.ts";
import { RecordCache } from "#core/records/cache.ts";
import { DEFAULT_TRANSPORT_SETTINGS } from "#core/records/transport-settings.ts";
import { logLimits } from "#core/retention.ts";
import type { DeliverDeps, RouteDeps } from "#core/usecases/deps.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { makeRouteHandler } from "#functions/route/handler.ts";
import { startEventWorker } from "./event-worker.ts";
import { QUEUE, type RelayHome } from "./home.ts";
import { RollingJsonLog } from "./log-files.ts";
import { Retention } from "./retention.ts";
import type { DeliveryPriority } from "./thread-priority.ts";
import { startWorker, type Worker } from "./worker.ts";

/** Settings that cross into the pipeline thread (plain data only). */
export interface PipelineSettings {
  home: RelayHome;
  hostName?: string;
  smtpCa?: string;
  smtpTimeoutMs?: number;
  recordsTtlMs?: number;
  /** Wait before the first retention run; default 1 minute. */
  retentionFirstRunMs?: number;
  /** Test-only: trust anchors and port of MTA-STS policy hosts (a test CA on a loopback port). */
  mtaStsFetch?: { ca?: string[]; port?: number };
  /** First delay before a failed webhook call is retried; default 10 s. */
  eventRetryBaseMs?: number;
  /** The pipeline thread's scheduling priority (local/thread-priority.ts); default `low`. */
  deliveryPriority?: DeliveryPriority;
}

export interface Pipeline {
  submission: LocalQueue<SubmittedMessage>;
  delivery: LocalQueue<DeliveryJob>;
  /** Messages a previous process had in progress, made visible again at start. */
  recovered: number;
  stop(): Promise<void>;
}

/**
 * How long a received message stays invisible: a route batch is quick; a delivery attempt may take
 * SMTP timeouts across several hosts, and the worker's deadline is this same time.
 */
const VISIBILITY_SECONDS = { submission: 60, delivery: 900 } as const;

/**
 * `logger` gets the pipeline's own problems; route and deliver log as relay-route and relay-deliver
 * (as the functions do in AWS) and their counts go out as EMF lines, all on `out` (stderr).
 */
export async function startPipeline(
  settings: PipelineSettings,
  logger: Log,
  out: LineSink = process.stderr,
  /** The queue database's service across a port; absent, the queue database is opened in this thread (tests). */
  queueService?: QueueService,
): Promise<Pipeline> {
  const { home } = settings;
  const own = queueService ? undefined : openQueueStore(home.queues);
  const queues = queueService ?? (own as QueueStore).service;
  const records = new RecordCache(new LocalRecordStore(home.records), {
    ttlMs: settings.recordsTtlMs ?? 2000,
    onError: (error) =>
      logger.error("records could not be read; keeping the last good set", { error }),
  });
  await records.refresh();
  const submission = new LocalQueue<SubmittedMessage>(queues, QUEUE.submission, {
    visibilityTimeoutSeconds: VISIBILITY_SECONDS.submission,
    maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
    deadLetter: QUEUE.submissionDlq,
  });
  const delivery = new LocalQueue<DeliveryJob>(queues, QUEUE.delivery, {
    visibilityTimeoutSeconds: VISIBILITY_SECONDS.delivery,
    maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
    deadLetter: QUEUE.deliveryDlq,
  });
  const recovered = (await submission.releaseInFlight()) + (await delivery.releaseInFlight());
  // tracking.db's WAL is checkpointed on a thread of its own: a checkpoint inside a commit of this
  // thread (its writes and two fsyncs, 10–30 ms here) would hold back the Delivered record that
  // closes the duplicate window (settle.ts, recordDelivered) and every other job's continuation.
  const tracking = new LocalTrackingStore(home.tracking, {
    autocheckpointPages: BACKSTOP_CHECKPOINT_PAGES,
  });
  // The jobs just released may be claimed by the process that died holding them.
  const staleClaims = tracking.releaseAllClaims();
  if (staleClaims > 0) logger.info("delivery claims of the last run released", { staleClaims });
  // The policy cache lives beside tracking, so the CLI and every worker see one cache.
  const mtaStsStore = new LocalMtaStsPolicyStore(home.tracking);
  const sendLog = new RollingJsonLog(
    home.protocolLogs,
    "send",
    () => logLimits(records.current?.settings ?? DEFAULT_TRANSPORT_SETTINGS, "send").maxFileBytes,
  );
  // Both protocol logs and tracking are pruned here, on the delivery thread, not the listener's.
  const retention = new Retention({
    protocolLogs: home.protocolLogs,
    records,
    tracking,
    log: logger,
    ...(settings.retentionFirstRunMs !== undefined
      ? { firstRunMs: settings.retentionFirstRunMs }
      : {}),
  });
  retention.start();
  const timeout = settings.smtpTimeoutMs;
  const metrics = new EmfMetrics({ out, flushEveryMs: PERIODIC_FLUSH_MS, log: logger });
  const secrets = await LocalSecretStore.open(home.secrets);
  const hopState = new LocalHopStateStore(home.limits);
  const suppression = new LocalSuppressionStore(home.suppression);
  const outbox = new LocalEventOutbox(
    home.events,
    () => (records.current?.settings ?? DEFAULT_TRANSPORT_SETTINGS).eventWebhooks,
  );
  const eventWorker = startEventWorker({
    outbox,
    secrets,
    log: logger,
    ...(settings.eventRetryBaseMs ? { retryBaseMs: settings.eventRetryBaseMs } : {}),
  });
  const deps: DeliverDeps & RouteDeps = {
    records,
    tracking,
    messages: await LocalMessageStore.open(home.bodies),
    submissionQueue: submission,
    deliveryQueue: delivery,
    clock: { now: () => new Date() },
    metrics,
    hostName: settings.hostName ?? hostname(),
    maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
    dns: new NodeDnsResolver(),
    courier: new NodemailerCourier({
      ...(settings.smtpCa ? { ca: settings.smtpCa } : {}),
      ...(timeout
        ? { connectionTimeoutMs: timeout, greetingTimeoutMs: timeout, socketTimeoutMs: timeout }
        : {}),
    }),
    secrets,
    // Next-hop slots, rate, backoff and circuits in limits.db, which the CLI reads for queue get.
    nextHops: new NextHopGovernor(hopState, { now: () => new Date() }),
    suppression,
    events: outbox,
    dkim: mailauthDkim(secrets),
    protocolLog: { write: (line) => sendLog.write(line) },
    tlsPolicy: {
      lookups: new NetworkTlsPolicyLookups(
        settings.mtaStsFetch ? { fetch: settings.mtaStsFetch } : {},
      ),
      mtaStsStore,
    },
  };
  // Started last, after everything that may fail: nothing is left running if the start fails.
  const trackingCheckpointer = startCheckpointer(home.tracking);
  const onError = (error: unknown) => logger.error("worker batch failed", { error });
  const workers: Worker[] = [
    startWorker({
      name: "route",
      queue: submission,
      handler: makeRouteHandler({ ...deps, logger: createLogger("relay-route", out) }),
      batchSize: 10,
      concurrency: 2,
      visibilityTimeoutSeconds: VISIBILITY_SECONDS.submission,
      onError,
    }),
    startWorker({
      name: "deliver",
      queue: delivery,
      handler: makeDeliverHandler({ ...deps, logger: createLogger("relay-deliver", out) }),
      batchSize: 1,
      concurrency: 16,
      visibilityTimeoutSeconds: VISIBILITY_SECONDS.delivery,
      onError,
    }),
  ];
  return {
    submission,
    delivery,
    recovered,
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
      await eventWorker.stop();
      outbox.close();
      suppression.close();
      await retention.stop();
      await sendLog.close();
      metrics.close();
      // The checkpointer first: the last connection to close the file checkpoints what is left.
      await trackingCheckpointer.stop();
      tracking.close();
      mtaStsStore.close();
      hopState.close();
      own?.close();
    },
  };
}
