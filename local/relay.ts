// Local mode: the listener and the queue database's writer on this thread (a submission's commit
// needs no hop between threads), route and deliver on a second one (so accepting and delivering
// each get a core), all on durable local adapters under RELAY_HOME.
import { hostname } from "node:os";
import { Worker } from "node:worker_threads";
import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { LocalQueue } from "#adapters/local/queue.ts";
import { openQueueHost, type QueueHost } from "#adapters/local/queue-port.ts";
import { LocalRateCounterStore } from "#adapters/local/rate-counter-store.ts";
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { EmfMetrics, PERIODIC_FLUSH_MS } from "#adapters/observability/metrics.ts";
import type { SubmittedMessage } from "#core/message.ts";
import type { Metrics } from "#core/metrics.ts";
import { RecordCache, recordCacheLogging } from "#core/records/cache.ts";
import { DEFAULT_TRANSPORT_SETTINGS } from "#core/records/transport-settings.ts";
import { logLimits } from "#core/retention.ts";
import { type Logger, listenerLog } from "#listener/logger.ts";
import { createListener, type Listener } from "#listener/server.ts";
import { lockHome, QUEUE, type RelayHome, relayHome } from "./home.ts";
import { RollingJsonLog } from "./log-files.ts";
import { workerResourceLimits } from "./memory.ts";
import type { PipelineSettings } from "./pipeline.ts";
import type { FromPipeline, ToPipeline } from "./pipeline-thread.ts";
import { seedRecords } from "./seed.ts";
import type { DeliveryPriority } from "./thread-priority.ts";
import { fileTlsSource, loadOrCreateTls, type TlsMaterial } from "./tls.ts";

export interface LocalRelayOptions {
  /** RELAY_HOME; default ./.relay. */
  home?: string;
  hostName?: string;
  logger?: Logger;
  /**
   * The listener's counts (messages received per receive connector, ...). Default: EMF lines on
   * stderr beside the log, once a minute and at stop; the pipeline thread writes its own there.
   */
  metrics?: Metrics & { close?(): void };
  /** Extra trust anchors (PEM) for smart hosts and MX hosts with a private CA. */
  smtpCa?: string;
  /** Port of the HTTP health endpoint; absent: none. */
  healthPort?: number;
  /** How often records are re-read; edits take effect within this. Default 2 s. */
  recordsTtlMs?: number;
  /** How often the TLS files and client CA bundles are re-read; default 2 s. */
  tlsReloadIntervalMs?: number;
  /** Upper bound on SMTP timeouts for outgoing connections (ms); default 30 s connect, 5 min idle. */
  smtpTimeoutMs?: number;
  /** Test-only: trust anchors and port of MTA-STS policy hosts (a test CA on a loopback port). */
  mtaStsFetch?: { ca?: string[]; port?: number };
  /** First delay before a failed webhook call is retried; default 10 s (RELAY_EVENT_RETRY_BASE_MS). */
  eventRetryBaseMs?: number;
  /** The delivery thread's scheduling priority (RELAY_DELIVERY_PRIORITY); default `low`. */
  deliveryPriority?: DeliveryPriority;
  /** Called when the pipeline thread dies unexpectedly; default: log it and exit with status 1. */
  onFatal?: (error: Error) => void;
}

export interface LocalRelay {
  home: RelayHome;
  listener: Listener;
  /** A reading connection to the tracking database (the pipeline thread writes it). */
  tracking: LocalTrackingStore;
  records: RecordCache;
  seeded: boolean;
  tls: TlsMaterial;
  recovered: number;
  /** Messages an older relay's spool held, moved into the queue database at this start. */
  imported: number;
  stop(): Promise<void>;
}

/** Starts the pipeline thread and resolves once it has opened the spool and is routing. */
function startPipelineThread(
  settings: PipelineSettings,
  queues: QueueHost,
  onFatal: (error: Error) => void,
): Promise<{ worker: Worker; recovered: number; stopping: () => void }> {
  // Route and deliver steps need no fsync before their answer (QueueServer says why); the
  // listener's submissions, on the thread's own client, do.
  const queuePort = queues.connect({ deferSync: true });
  const worker = new Worker(new URL("./pipeline-thread.ts", import.meta.url), {
    workerData: { ...settings, queuePort },
    transferList: [queuePort],
    resourceLimits: workerResourceLimits,
  });
  let ready = false;
  let stopping = false;
  return new Promise((resolve, reject) => {
    worker.on("message", (m: FromPipeline) => {
      if (m.type === "ready") {
        ready = true;
        resolve({ worker, recovered: m.recovered, stopping: () => (stopping = true) });
      } else if (m.type === "failed")
        reject(new Error(`delivery pipeline did not start: ${m.message}`));
    });
    worker.on("error", (error) => (ready ? onFatal(error) : reject(error)));
    worker.on("exit", (code) => {
      if (!ready) reject(new Error(`delivery pipeline exited with ${code} before it started`));
      else if (!stopping) onFatal(new Error(`delivery pipeline thread exited with ${code}`));
    });
  });
}

export async function startLocalRelay(options: LocalRelayOptions = {}): Promise<LocalRelay> {
  const home = relayHome(options.home);
  const lock = await lockHome(home);
  const logger = options.logger ?? listenerLog(process.stderr);
  const metrics =
    options.metrics ??
    new EmfMetrics({ out: process.stderr, flushEveryMs: PERIODIC_FLUSH_MS, log: logger });
  const hostName = options.hostName ?? process.env.RELAY_HOST_NAME ?? hostname();
  const onFatal =
    options.onFatal ??
    ((error: Error) => {
      logger.error("delivery pipeline failed; stopping", { error });
      process.exit(1);
    });
  let pipeline: Awaited<ReturnType<typeof startPipelineThread>> | undefined;
  let queues: QueueHost | undefined;
  try {
    const recordStore = new LocalRecordStore(home.records, (path, error) =>
      logger.warn("record file skipped: not valid JSON", { path, error: error.message }),
    );
    const seeded = await seedRecords(recordStore);
    const records = new RecordCache(recordStore, {
      ttlMs: options.recordsTtlMs ?? 2000,
      ...recordCacheLogging(logger),
    });
    await records.refresh();

    const settings: PipelineSettings = {
      home,
      hostName,
      ...(options.smtpCa ? { smtpCa: options.smtpCa } : {}),
      ...(options.smtpTimeoutMs ? { smtpTimeoutMs: options.smtpTimeoutMs } : {}),
      ...(options.recordsTtlMs ? { recordsTtlMs: options.recordsTtlMs } : {}),
      ...(options.mtaStsFetch ? { mtaStsFetch: options.mtaStsFetch } : {}),
      ...(options.eventRetryBaseMs ? { eventRetryBaseMs: options.eventRetryBaseMs } : {}),
      ...(options.deliveryPriority ? { deliveryPriority: options.deliveryPriority } : {}),
    };
    queues = openQueueHost(home.queues);
    if (queues.imported > 0)
      logger.info("messages of the old file spool moved into the queue database", {
        imported: queues.imported,
      });
    pipeline = await startPipelineThread(settings, queues, onFatal);
    // The listener's side of the submission queue: its send resolves once the message is committed
    // (with everything else of that turn) and the WAL synced, so the 250 follows the sync.
    const submission = new LocalQueue<SubmittedMessage>(queues.client, QUEUE.submission);
    const tls = await loadOrCreateTls(home.tls, hostName);
    const receiveLog = new RollingJsonLog(
      home.protocolLogs,
      "receive",
      () =>
        logLimits(records.current?.settings ?? DEFAULT_TRANSPORT_SETTINGS, "receive").maxFileBytes,
    );
    const counters = new LocalRateCounterStore(home.limits);
    const listener = createListener({
      counters,
      records,
      queue: submission,
      messageStore: await LocalMessageStore.open(home.bodies),
      config: {
        hostName,
        // Re-read at the record cache's pace, so connector edits reach new sessions within 5 s.
        reloadIntervalMs: options.recordsTtlMs ?? 2000,
        tlsReloadIntervalMs: options.tlsReloadIntervalMs ?? 2000,
        ...(options.healthPort !== undefined ? { healthPort: options.healthPort } : {}),
      },
      logger,
      metrics,
      protocolLog: receiveLog,
      tlsSource: fileTlsSource(tls, home.tls),
    });
    await listener.start();
    const tracking = new LocalTrackingStore(home.tracking);

    let stopped = false;
    const running = pipeline;
    const queueHost = queues;
    return {
      home,
      listener,
      tracking,
      records,
      seeded,
      tls,
      recovered: running.recovered,
      imported: queueHost.imported,
      async stop() {
        if (stopped) return;
        stopped = true;
        await listener.stop();
        await stopPipeline(running);
        queueHost.stop();
        await receiveLog.close();
        metrics.close?.();
        tracking.close();
        counters.close();
        await lock.release();
      },
    };
  } catch (error) {
    if (pipeline) await stopPipeline(pipeline);
    queues?.stop();
    await lock.release();
    throw error;
  }
}

/** Asks the pipeline thread to finish its batches, then ends it; after 30 s it is terminated. */
async function stopPipeline(p: { worker: Worker; stopping: () => void }): Promise<void> {
  p.stopping();
  const done = new Promise<void>((resolve) => {
    p.worker.on("message", (m: FromPipeline) => m.type === "stopped" && resolve());
    p.worker.on("exit", () => resolve());
  });
  p.worker.postMessage({ type: "stop" } satisfies ToPipeline);
  const timer = setTimeout(() => void p.worker.terminate(), 30_000);
  await done;
  clearTimeout(timer);
  await p.worker.terminate();
}
