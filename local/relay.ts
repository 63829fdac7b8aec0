// Local mode: the listener, route and deliver in one process on durable local adapters under RELAY_HOME.
import { hostname } from "node:os";
import { NodeDnsResolver } from "#adapters/dns/resolver.ts";
import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import { LocalQueue } from "#adapters/local/spool.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { NodemailerCourier } from "#adapters/smtp/courier.ts";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import { RecordCache } from "#core/records/cache.ts";
import type { DeliverDeps } from "#core/usecases/deps.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { makeRouteHandler } from "#functions/route/handler.ts";
import { jsonLogger, type Logger } from "#listener/logger.ts";
import { createListener, type Listener } from "#listener/server.ts";
import { lockHome, type RelayHome, relayHome } from "./home.ts";
import { DailyJsonLog } from "./log-files.ts";
import { seedRecords } from "./seed.ts";
import { loadOrCreateTls, type TlsMaterial } from "./tls.ts";
import { startWorker, type Worker } from "./worker.ts";

export interface LocalRelayOptions {
  /** RELAY_HOME; default ./.relay. */
  home?: string;
  hostName?: string;
  logger?: Logger;
  /** Extra trust anchors (PEM) for smart hosts and MX hosts with a private CA. */
  smtpCa?: string;
  /** Port of the HTTP health endpoint; absent: none. */
  healthPort?: number;
  /** How often records are re-read; edits take effect within this. Default 2 s. */
  recordsTtlMs?: number;
  /** Upper bound on SMTP timeouts for outgoing connections (ms); default 30 s connect, 5 min idle. */
  smtpTimeoutMs?: number;
}

export interface LocalRelay {
  home: RelayHome;
  listener: Listener;
  submission: LocalQueue<SubmittedMessage>;
  delivery: LocalQueue<DeliveryJob>;
  submissionDlq: LocalQueue<unknown>;
  deliveryDlq: LocalQueue<unknown>;
  tracking: LocalTrackingStore;
  records: RecordCache;
  seeded: boolean;
  tls: TlsMaterial;
  recovered: number;
  stop(): Promise<void>;
}

/** Matches the queues' redrive policy in the AWS stack. */
const MAX_RECEIVE_COUNT = 5;

export async function startLocalRelay(options: LocalRelayOptions = {}): Promise<LocalRelay> {
  const home = relayHome(options.home);
  const lock = await lockHome(home);
  const logger = options.logger ?? jsonLogger(process.stderr);
  const hostName = options.hostName ?? process.env.RELAY_HOST_NAME ?? hostname();
  try {
    const recordStore = new LocalRecordStore(home.records, (path, error) =>
      logger.warn("record file skipped: not valid JSON", { path, error: error.message }),
    );
    const seeded = await seedRecords(recordStore);
    const records = new RecordCache(recordStore, {
      ttlMs: options.recordsTtlMs ?? 2000,
      onProblem: (problem, text) =>
        logger.warn(`record skipped: ${text}`, { record: problem.record, field: problem.field }),
      onError: (error) =>
        logger.error("records could not be read; keeping the last good set", { error }),
    });
    await records.refresh();

    const submissionDlq = await LocalQueue.open<unknown>(home.submissionDlq);
    const deliveryDlq = await LocalQueue.open<unknown>(home.deliveryDlq);
    const submission = await LocalQueue.open<SubmittedMessage>(home.submissionQueue, {
      visibilityTimeoutSeconds: 60,
      maxReceiveCount: MAX_RECEIVE_COUNT,
      deadLetter: submissionDlq,
    });
    const delivery = await LocalQueue.open<DeliveryJob>(home.deliveryQueue, {
      visibilityTimeoutSeconds: 900,
      maxReceiveCount: MAX_RECEIVE_COUNT,
      deadLetter: deliveryDlq,
    });
    const recovered = (await submission.releaseInFlight()) + (await delivery.releaseInFlight());
    const messages = await LocalMessageStore.open(home.bodies);
    const tracking = new LocalTrackingStore(home.tracking);
    const secrets = await LocalSecretStore.open(home.secrets);
    const tls = await loadOrCreateTls(home.tls, hostName);
    const receiveLog = new DailyJsonLog(home.protocolLogs, "receive");
    const sendLog = new DailyJsonLog(home.protocolLogs, "send");

    const deps: DeliverDeps = {
      records,
      tracking,
      messages,
      submissionQueue: submission,
      deliveryQueue: delivery,
      clock: { now: () => new Date() },
      log: logger,
      hostName,
      maxReceiveCount: MAX_RECEIVE_COUNT,
      dns: new NodeDnsResolver(),
      courier: new NodemailerCourier({
        ...(options.smtpCa ? { ca: options.smtpCa } : {}),
        ...(options.smtpTimeoutMs
          ? {
              connectionTimeoutMs: options.smtpTimeoutMs,
              greetingTimeoutMs: options.smtpTimeoutMs,
              socketTimeoutMs: options.smtpTimeoutMs,
            }
          : {}),
      }),
      secrets,
      protocolLog: { write: (line) => sendLog.write(line) },
    };

    const listener = createListener({
      records,
      queue: submission,
      messageStore: messages,
      config: {
        hostName,
        tls: { cert: tls.cert, key: tls.key },
        ...(options.healthPort !== undefined ? { healthPort: options.healthPort } : {}),
      },
      logger,
      protocolLog: receiveLog,
    });
    await listener.start();

    const onError = (error: unknown) => logger.error("worker batch failed", { error });
    const workers: Worker[] = [
      startWorker({
        name: "route",
        queue: submission,
        handler: makeRouteHandler(deps),
        batchSize: 10,
        concurrency: 2,
        visibilityTimeoutSeconds: 60,
        onError,
      }),
      startWorker({
        name: "deliver",
        queue: delivery,
        handler: makeDeliverHandler(deps),
        batchSize: 1,
        concurrency: 16,
        visibilityTimeoutSeconds: 900,
        onError,
      }),
    ];

    let stopped = false;
    return {
      home,
      listener,
      submission,
      delivery,
      submissionDlq,
      deliveryDlq,
      tracking,
      records,
      seeded,
      tls,
      recovered,
      async stop() {
        if (stopped) return;
        stopped = true;
        await listener.stop();
        await Promise.all(workers.map((w) => w.stop()));
        await receiveLog.close();
        await sendLog.close();
        tracking.close();
        await lock.release();
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}
