// Local mode's webhook worker: drains the event outbox in the background, POSTing each event signed, retrying with backoff.
import type { LocalEventOutbox, OutboxItem } from "#adapters/local/event-outbox.ts";
import { postWebhook } from "#adapters/local/webhook-sender.ts";
import type { Log } from "#core/log.ts";
import type { SecretStore } from "#core/ports.ts";

export interface EventWorkerOptions {
  outbox: LocalEventOutbox;
  secrets: SecretStore;
  log: Log;
  /** First retry delay; doubled per failure up to an hour. Default 10 s. */
  retryBaseMs?: number;
  /** How often the outbox is read when nothing pokes the worker. Default 1 s. */
  pollMs?: number;
}

const MAX_DELAY_MS = 3600_000;
/** Stripe retries a webhook for three days; an event older than that is dropped with an error. */
export const GIVE_UP_AFTER_MS = 3 * 24 * 3600_000;
/** Events POSTed at once; a slow endpoint holds only these. */
const BATCH = 8;

export function startEventWorker(options: EventWorkerOptions): { stop(): Promise<void> } {
  const { outbox, secrets, log } = options;
  const base = options.retryBaseMs ?? 10_000;
  const abort = new AbortController();
  let wake: (() => void) | undefined;
  outbox.onPublished = () => wake?.();

  async function send(item: OutboxItem): Promise<void> {
    const now = new Date();
    let secret: string;
    try {
      secret = await secrets.get(item.secret);
    } catch {
      // The name only: the value, if any, is never logged.
      return retry(item, `signing secret "${item.secret}" unavailable`, now);
    }
    const result = await postWebhook(item.url, secret, item.body, item.eventId, { now });
    if (result.ok) {
      outbox.remove(item.id);
      return;
    }
    retry(item, result.error, now);
  }

  function retry(item: OutboxItem, error: string, now: Date): void {
    if (now.getTime() - item.createdAt > GIVE_UP_AFTER_MS) {
      outbox.remove(item.id);
      log.error("delivery event dropped after three days of failed webhook calls", {
        eventId: item.eventId,
        webhook: new URL(item.url).origin,
        error,
      });
      return;
    }
    const delay = Math.min(MAX_DELAY_MS, base * 2 ** item.attempts);
    outbox.retryAt(item.id, new Date(now.getTime() + delay), error);
    log.warn("webhook call failed; retrying", {
      eventId: item.eventId,
      webhook: new URL(item.url).origin,
      attempt: item.attempts + 1,
      retryInMs: delay,
      error,
    });
  }

  async function loop(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        const items = outbox.due(BATCH);
        if (items.length) {
          await Promise.all(items.map(send));
          continue;
        }
      } catch (error) {
        log.error("event outbox could not be read", { error });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs ?? 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        abort.signal.addEventListener("abort", () => wake?.(), { once: true });
      });
      wake = undefined;
    }
  }

  const running = loop();
  return {
    async stop() {
      abort.abort();
      wake?.();
      await running;
      outbox.onPublished = undefined;
    },
  };
}
