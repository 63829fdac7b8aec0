// Hands an accepted message to the submission queue: inline when small, claim check in the message store when not.
import type { BodyRef, Envelope, Origin, SubmittedMessage } from "#core/message.ts";
import type { MessageStore, QueueProducer } from "#core/ports.ts";
import { inlineBody } from "#core/usecases/body.ts";

export interface SubmitPorts {
  queue: QueueProducer<SubmittedMessage>;
  messageStore: MessageStore;
  /** Bodies up to this many bytes travel inline in the queue message (core/usecases/body.ts inlineBody). */
  inlineBodyLimit: number;
}

export interface Submission {
  id: string;
  receivedAt: Date;
  envelope: Envelope;
  body: Buffer;
  origin: Origin;
  internetMessageId?: string;
  subject?: string;
}

export type SubmitOutcome =
  | { ok: true; message: SubmittedMessage }
  | { ok: false; stage: "store" | "queue"; error: unknown; cleanupError?: unknown };

/**
 * Queues the message; resolves `ok` only once the queue confirmed it (SQS acknowledged, or the
 * local spool fsynced). On any failure nothing stays visible: a body already put in the store is
 * deleted again (best effort — an orphan body is harmless, as nothing points to it), and the caller
 * answers 451 4.3.0 so the client keeps the message and retries.
 */
export async function submitMessage(ports: SubmitPorts, s: Submission): Promise<SubmitOutcome> {
  const inline = s.body.length <= ports.inlineBodyLimit;
  const body: BodyRef = inline ? inlineBody(s.body) : { storeKey: s.id };
  if (!inline) {
    try {
      await ports.messageStore.put(s.id, s.body);
    } catch (error) {
      return { ok: false, stage: "store", error };
    }
  }
  const message: SubmittedMessage = {
    id: s.id,
    receivedAt: s.receivedAt.toISOString(),
    envelope: s.envelope,
    size: s.body.length,
    body,
    origin: s.origin,
    ...(s.internetMessageId !== undefined ? { internetMessageId: s.internetMessageId } : {}),
    ...(s.subject !== undefined ? { subject: s.subject } : {}),
  };
  try {
    await ports.queue.send(message);
    return { ok: true, message };
  } catch (error) {
    if (inline) return { ok: false, stage: "queue", error };
    try {
      await ports.messageStore.delete(s.id);
      return { ok: false, stage: "queue", error };
    } catch (cleanupError) {
      return { ok: false, stage: "queue", error, cleanupError };
    }
  }
}
