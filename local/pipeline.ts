// Local mode's delivery side: the spooled queues, tracking, and the route and deliver workers that
// feed the Lambda handlers SQS-shaped batches. Runs in its own thread beside the listener.
import { hostname } from "node:os";
import { MailauthDkimSigner } from "#adapters/dkim/mailauth-signer.ts";
import { NodeDnsResolver } from "#adapters/dns/resolver.ts";
import { LocalMessageStore } from "#adapters/local/message-store.ts";
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import { LocalQueue } from "#adapters/local/spool.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { NodemailerCourier } from "#adapters/smtp/courier.ts";
import type { Log } from "#core/log.ts";
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import { RecordCache } from "#core/records/cache.ts";
import type { DeliverDeps, RouteDeps } from "#core/usecases/deps.ts";
import { makeDeliverHandler } from "#functions/deliver/handler.ts";
import { makeRouteHandler } from "#functions/route/handler.ts";
import type { RelayHome } from "./home.ts";
import { DailyJsonLog } from "./log-files.ts";
import { startWorker, type Worker } from "./worker.ts";

/** Settings that cross into the pipeline thread (plain data only). */
export interface PipelineSettings {
  home: RelayHome;
  hostName?: string;
  smtpCa?: string;
  smtpTimeoutMs?: number;
  recordsTtlMs?: number;
}

export interface Pipeline {
  submission: LocalQueue<SubmittedMessage>;
  delivery: LocalQueue<DeliveryJob>;
  /** Messages a previous process had in progress, made visible again at start. */
  recovered: number;
  stop(): Promise<void>;
}

/** Matches the queues' redrive policy in the AWS stack. */
export const MAX_RECEIVE_COUNT = 5;

export async function startPipeline(settings: PipelineSettings, logger: Log): Promise<Pipeline> {
  const { home } = settings;
  const records = new RecordCache(new LocalRecordStore(home.records), {
    ttlMs: settings.recordsTtlMs ?? 2000,
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
  const tracking = new LocalTrackingStore(home.tracking);
  const sendLog = new DailyJsonLog(home.protocolLogs, "send");
  const timeout = settings.smtpTimeoutMs;
  const secrets = await LocalSecretStore.open(home.secrets);
  const deps: DeliverDeps & RouteDeps = {
    records,
    tracking,
    messages: await LocalMessageStore.open(home.bodies),
    submissionQueue: submission,
    deliveryQueue: delivery,
    clock: { now: () => new Date() },
    log: logger,
    hostName: settings.hostName ?? hostname(),
    maxReceiveCount: MAX_RECEIVE_COUNT,
    dns: new NodeDnsResolver(),
    courier: new NodemailerCourier({
      ...(settings.smtpCa ? { ca: settings.smtpCa } : {}),
      ...(timeout
        ? { connectionTimeoutMs: timeout, greetingTimeoutMs: timeout, socketTimeoutMs: timeout }
        : {}),
    }),
    secrets,
    dkim: { signer: new MailauthDkimSigner(), secrets },
    protocolLog: { write: (line) => sendLog.write(line) },
  };
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
  return {
    submission,
    delivery,
    recovered,
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
      await sendLog.close();
      tracking.close();
    },
  };
}
