// Poison messages: on the last receive before the dead-letter queue, the reason goes to tracking so an admin sees why.
import type { RecipientRow } from "../ports.ts";
import { DEFAULT_MAX_RECEIVE_COUNT } from "../queue-limits.ts";
import { countEvent } from "./counts.ts";
import { logOf, type RelayDeps } from "./deps.ts";
import { ACTIVE_STATUSES } from "./settle.ts";

export interface PoisonReport {
  queue: "submission" | "delivery";
  /** The relay message id when the body named one, else the queue's own message id. */
  messageId: string;
  recipients: string[];
  sender?: string;
  reason: string;
  receiveCount: number;
}

/** True on the receive after which SQS moves a failing message to the dead-letter queue. */
export function isLastReceive(deps: RelayDeps, receiveCount: number): boolean {
  return receiveCount >= (deps.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Records a DLQ event per recipient and suspends the recipients still active, with the reason as
 * LastError (Exchange keeps poison messages suspended in a queue of their own until an admin acts).
 * Never throws: a tracking failure here must not hide the original error.
 */
export async function recordPoison(deps: RelayDeps, report: PoisonReport): Promise<void> {
  const at = deps.clock.now().toISOString();
  const detail = `${report.queue} queue: to the dead-letter queue after ${report.receiveCount} receives: ${report.reason}`;
  try {
    const targets = report.recipients.length ? report.recipients : [undefined];
    for (const recipient of targets) {
      if (recipient !== undefined) {
        const patch: Partial<RecipientRow> = {
          status: "Suspended",
          lastError: `Poison message: ${report.reason}`.slice(0, 1000),
          updatedAt: at,
        };
        await deps.tracking.update(report.messageId, recipient, patch, {
          ifStatusIn: ACTIVE_STATUSES,
        });
      }
      await deps.tracking.addEvent({
        messageId: report.messageId,
        ...(recipient !== undefined ? { recipient } : {}),
        ...(report.sender !== undefined ? { sender: report.sender } : {}),
        at,
        event: "DLQ",
        source: report.queue === "delivery" ? "SMTP" : "ROUTING",
        detail,
      });
    }
    countEvent(deps, "DLQ", { Queue: report.queue });
  } catch (error) {
    logOf(deps).error("could not record poison message", {
      messageId: report.messageId,
      reason: report.reason,
      error: describeError(error),
    });
  }
  logOf(deps).error("poison message", { ...report });
}
