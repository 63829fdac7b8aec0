// Local mode's retention: deletes protocol log files and finished messages' tracking past TransportSettings' limits, in the background.
import type { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import type { Log } from "#core/log.ts";
import type { Clock } from "#core/ports.ts";
import type { RecordCache } from "#core/records/cache.ts";
import { logLimits, type ProtocolLogName, trackingMaxAgeDays } from "#core/retention.ts";
import { pruneLogFiles } from "./log-files.ts";

export interface RetentionOptions {
  protocolLogs: string;
  records: RecordCache;
  tracking: LocalTrackingStore;
  log: Log;
  clock?: Clock;
  /** Pause between runs. @default 10 minutes (Exchange checks its logs about as often) */
  intervalMs?: number;
  /** Wait before the first run, so a start is not slowed by it. @default 1 minute */
  firstRunMs?: number;
  /** Messages deleted per tracking transaction; the pipeline's own writes run between batches. @default 200 */
  batchSize?: number;
}

export interface RetentionRun {
  /** Protocol log files deleted, by log. */
  logFiles: Record<ProtocolLogName, string[]>;
  /** Finished messages whose tracking rows and events were deleted. */
  trackedMessages: number;
}

const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Retention {
  readonly #o: RetentionOptions;
  readonly #clock: Clock;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(options: RetentionOptions) {
    this.#o = options;
    this.#clock = options.clock ?? { now: () => new Date() };
  }

  /** One pass over both protocol logs and the tracking store, with the settings of this moment. */
  async runOnce(): Promise<RetentionRun> {
    const { settings } = await this.#o.records.get();
    const now = this.#clock.now().getTime();
    const logFiles = { receive: [] as string[], send: [] as string[] };
    for (const log of ["receive", "send"] as const)
      logFiles[log] = await pruneLogFiles(this.#o.protocolLogs, log, logLimits(settings, log), now);
    const before = new Date(now - trackingMaxAgeDays(settings) * 86_400_000);
    const batch = this.#o.batchSize ?? 200;
    let trackedMessages = 0;
    for (;;) {
      const n = this.#o.tracking.pruneFinished(before, batch);
      trackedMessages += n;
      if (n < batch || this.#stopped) break;
      await yieldToOthers(); // the batch commits, and queued deliveries run, before the next one
    }
    if (trackedMessages || logFiles.receive.length || logFiles.send.length)
      this.#o.log.info("retention: deleted old protocol logs and tracking", {
        receiveLogFiles: logFiles.receive.length,
        sendLogFiles: logFiles.send.length,
        trackedMessages,
        trackedBefore: before.toISOString(),
      });
    return { logFiles, trackedMessages };
  }

  start(): void {
    const schedule = (ms: number) => {
      if (this.#stopped) return;
      this.#timer = setTimeout(() => {
        this.#running = this.runOnce()
          .catch((error) => this.#o.log.error("retention run failed", { error }))
          .finally(() => schedule(this.#o.intervalMs ?? 600_000));
      }, ms);
      this.#timer.unref();
    };
    schedule(this.#o.firstRunMs ?? 60_000);
  }

  /** Stops the schedule and waits for a run in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
