// Group commit for SQS sends: messages queued in the same event-loop turn, or while the previous request is in flight, go out in one SendMessageBatch.
import type { SendMessageBatchCommandOutput, SQSClient } from "@aws-sdk/client-sqs";
import { QueueUnavailableError } from "#core/errors.ts";
import { sendPreSerializedBatch } from "./sqs-batch-request.ts";

/** SendMessageBatch takes at most 10 entries (SQS API reference, SendMessageBatch). */
export const MAX_BATCH_ENTRIES = 10;
/**
 * The sum of a batch's message bodies may be at most 1 MiB (SQS quotas, since August 2025; it was
 * 256 KiB before). A single message larger than that goes alone and gets SQS's own refusal.
 */
export const MAX_BATCH_PAYLOAD_BYTES = 1_048_576;

interface Entry {
  body: string;
  delaySeconds: number;
  resolve(messageId: string): void;
  reject(error: QueueUnavailableError): void;
}

export interface GroupCommitOptions {
  client: SQSClient;
  queueUrl: string;
  /**
   * Partial batches in flight at once; further sends wait and join the next batch, as a
   * database's group commit does. A full batch (10 entries, or the payload limit) never waits.
   * @default 1
   */
  maxInFlight?: number;
  /** Bytes of a batch's payload. @default MAX_BATCH_PAYLOAD_BYTES */
  maxBatchBytes?: number;
}

const errorName = (error: unknown) => (error as { name?: string } | undefined)?.name ?? "";

/**
 * Each `send` resolves with its own SQS message id only once SQS reported that entry stored
 * (`Successful`), and rejects with QueueUnavailableError when the request failed or SQS listed
 * the entry as `Failed` — the other entries of the batch are not affected. Nothing waits on a
 * timer: when no request is in flight, what arrived in this turn of the event loop goes at once
 * (one message alone costs no added latency); under load, sends gather while the previous request
 * is in flight, so the per-request cost (signing, HTTP, the SDK's middleware) is shared by up to
 * ten messages. SQS bills a batch by its 64 KiB chunks, as it bills the messages sent one by one.
 */
export class SqsGroupCommit {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #maxInFlight: number;
  readonly #maxBytes: number;
  #pending: Entry[] = [];
  #pendingBytes = 0;
  #inFlight = 0;
  #scheduled = false;

  constructor(options: GroupCommitOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    this.#maxBytes = options.maxBatchBytes ?? MAX_BATCH_PAYLOAD_BYTES;
  }

  /** Queues one message body (already SQS-safe text); resolves with its SQS message id. */
  send(body: string, delaySeconds: number): Promise<string> {
    // SQS counts the body's UTF-8 bytes against the batch limit.
    const bytes = Buffer.byteLength(body);
    return new Promise<string>((resolve, reject) => {
      if (this.#pending.length > 0 && this.#pendingBytes + bytes > this.#maxBytes) {
        this.#dispatch(this.#take());
      }
      this.#pending.push({ body, delaySeconds, resolve, reject });
      this.#pendingBytes += bytes;
      if (this.#pending.length >= MAX_BATCH_ENTRIES) this.#dispatch(this.#take());
      else this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#pending.length > 0 && this.#inFlight < this.#maxInFlight) {
        this.#dispatch(this.#take());
      }
    });
  }

  #take(): Entry[] {
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    return batch;
  }

  #dispatch(batch: Entry[]): void {
    this.#inFlight++;
    void this.#request(batch).finally(() => {
      this.#inFlight--;
      // What gathered while this request was in flight goes next.
      if (this.#pending.length > 0) this.#schedule();
    });
  }

  async #request(batch: Entry[]): Promise<void> {
    let out: SendMessageBatchCommandOutput;
    try {
      out = await sendPreSerializedBatch(
        this.#client,
        this.#queueUrl,
        batch.map((e, i) => ({ Id: String(i), MessageBody: e.body, DelaySeconds: e.delaySeconds })),
      );
    } catch (error) {
      const message = `SQS SendMessageBatch to ${this.#queueUrl} failed: ${errorName(error)} ${(error as Error)?.message ?? error}`;
      for (const e of batch) e.reject(new QueueUnavailableError(message, { cause: error }));
      return;
    }
    const settled = new Set<number>();
    for (const ok of out.Successful ?? []) {
      const i = Number(ok.Id);
      const entry = batch[i];
      if (!entry || settled.has(i) || !ok.MessageId) continue;
      settled.add(i);
      entry.resolve(ok.MessageId);
    }
    for (const failed of out.Failed ?? []) {
      const i = Number(failed.Id);
      const entry = batch[i];
      if (!entry || settled.has(i)) continue;
      settled.add(i);
      entry.reject(
        new QueueUnavailableError(
          `SQS SendMessageBatch to ${this.#queueUrl}: entry refused: ${failed.Code ?? "unknown"} ${failed.Message ?? ""}`.trim(),
        ),
      );
    }
    batch.forEach((entry, i) => {
      if (!settled.has(i))
        entry.reject(
          new QueueUnavailableError(
            `SQS SendMessageBatch to ${this.#queueUrl} reported nothing for an entry`,
          ),
        );
    });
  }
}
