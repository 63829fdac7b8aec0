// Redriving the dead-letter (Poison) queues: each message goes back to its source queue, its poison hold released first.
import { type AdminDeps, resumeMessage } from "./admin.ts";

/** One dead-letter queue and the way back to its source (a local directory, or an SQS queue pair). */
export interface DeadLetterQueue {
  readonly queue: "submission" | "delivery";
  /**
   * Hands each dead letter's body to `release`, then sends it back to the source queue and removes
   * it here, in that order; resolves how many moved.
   */
  redrive(release: (body: unknown) => Promise<void>): Promise<number>;
}

export interface RedriveResult {
  queue: "submission" | "delivery";
  moved: number;
  /** Messages whose poison hold was released. */
  released: string[];
}

/** The relay message id a dead letter is about: a delivery job's messageId, a submission's id. */
export function deadLetterMessageId(body: unknown): string | undefined {
  const o = (body ?? {}) as Record<string, unknown>;
  const id = typeof o.messageId === "string" ? o.messageId : o.id;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/**
 * The last receive before the dead-letter queue suspended the message's recipients with a "Poison
 * message" LastError (see poison.ts). Those rows are made active again before the message moves,
 * so the redriven job or submission finds them open rather than being held or skipped.
 */
export async function redriveDeadLetters(
  deps: AdminDeps,
  queues: DeadLetterQueue[],
): Promise<RedriveResult[]> {
  const results: RedriveResult[] = [];
  for (const dlq of queues) {
    const released: string[] = [];
    const moved = await dlq.redrive(async (body) => {
      const id = deadLetterMessageId(body);
      if (!id) return;
      const r = await resumeMessage(deps, id, { onlyPoison: true });
      if (r.kind === "done") released.push(id);
    });
    results.push({ queue: dlq.queue, moved, released });
  }
  return results;
}
