// SQS queue adapter: the submission and delivery queues, as producer (listener, route) and consumer (tests, CLI).
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { QueueUnavailableError } from "#core/errors.ts";
import type { QueueProducer } from "#core/ports.ts";
import { MAX_DELAY_SECONDS } from "#core/queue-limits.ts";
import type { QueueConsumer, ReceivedMessage } from "../queue-consumer.ts";
import { SqsGroupCommit } from "./sqs-group-commit.ts";

/** ReceiveMessage returns at most 10 messages per call. */
const MAX_RECEIVE = 10;

export interface SqsQueueOptions {
  client: SQSClient;
  queueUrl: string;
  /** Long polling for `receive` (0..20 s). @default 0 */
  waitTimeSeconds?: number;
  /** Called with messages whose body is not JSON; they are left in the queue to reach the DLQ. */
  onInvalidBody?: (messageId: string, error: unknown) => void;
  /**
   * Concurrent sends share SendMessageBatch requests (sqs-group-commit.ts); `false` sends each
   * message with its own SendMessage. @default true
   */
  groupCommit?: boolean;
}

export function clampDelaySeconds(seconds: number | undefined): number {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(MAX_DELAY_SECONDS, Math.ceil(seconds));
}

/*
 * SQS rejects bodies with characters outside #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
 * #x10000-#x10FFFF. JSON.stringify already escapes control characters and lone surrogates; the
 * noncharacters U+FFFE and U+FFFF can only appear inside JSON strings, so escaping them keeps the
 * JSON identical in meaning (a subject line must not make a message unqueueable).
 */
export function encodeBody(body: unknown): string {
  return JSON.stringify(body).replace(
    /[\uFFFE\uFFFF]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
}

const errorName = (error: unknown) => (error as { name?: string } | undefined)?.name ?? "";

export class SqsQueue<T> implements QueueProducer<T>, QueueConsumer<T> {
  readonly queueUrl: string;
  readonly #client: SQSClient;
  readonly #wait: number;
  readonly #onInvalidBody: SqsQueueOptions["onInvalidBody"];
  readonly #group: SqsGroupCommit | undefined;

  constructor(options: SqsQueueOptions) {
    this.#client = options.client;
    this.queueUrl = options.queueUrl;
    this.#wait = options.waitTimeSeconds ?? 0;
    this.#onInvalidBody = options.onInvalidBody;
    this.#group =
      options.groupCommit === false
        ? undefined
        : new SqsGroupCommit({ client: options.client, queueUrl: options.queueUrl });
  }

  /** Resolves with the SQS message id once SQS has stored the message; any failure is QueueUnavailableError. */
  async send(body: T, options: { delaySeconds?: number } = {}): Promise<string> {
    if (this.#group) {
      return this.#group.send(encodeBody(body), clampDelaySeconds(options.delaySeconds));
    }
    try {
      const out = await this.#client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: encodeBody(body),
          DelaySeconds: clampDelaySeconds(options.delaySeconds),
        }),
      );
      if (!out.MessageId) throw new Error("SendMessage returned no MessageId");
      return out.MessageId;
    } catch (error) {
      throw new QueueUnavailableError(
        `SQS SendMessage to ${this.queueUrl} failed: ${errorName(error)} ${(error as Error)?.message ?? error}`,
        { cause: error },
      );
    }
  }

  async receive(
    max = MAX_RECEIVE,
    visibilityTimeoutSeconds?: number,
  ): Promise<ReceivedMessage<T>[]> {
    const out = await this.#client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.max(1, Math.min(MAX_RECEIVE, max)),
        VisibilityTimeout: visibilityTimeoutSeconds,
        WaitTimeSeconds: this.#wait,
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
      }),
    );
    const received: ReceivedMessage<T>[] = [];
    for (const m of out.Messages ?? []) {
      if (!m.MessageId || !m.ReceiptHandle) continue;
      let body: T;
      try {
        body = JSON.parse(m.Body ?? "") as T;
      } catch (error) {
        // Not deleted: its receive count grows and the redrive policy moves it to the DLQ.
        this.#onInvalidBody?.(m.MessageId, error);
        continue;
      }
      received.push({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body,
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? "1"),
        sentAt: Number(m.Attributes?.SentTimestamp ?? Date.now()),
      });
    }
    return received;
  }

  /** SQS itself accepts a stale receipt handle; an invalid one is ignored here too, as the port promises. */
  async delete(receiptHandle: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle }),
      );
    } catch (error) {
      if (!/ReceiptHandleIsInvalid/.test(errorName(error))) throw error;
    }
  }

  /** A message no longer in flight (deleted, or visible again) is ignored, as in the other queues. */
  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    try {
      await this.#client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: Math.max(0, Math.min(43_200, Math.ceil(seconds))),
        }),
      );
    } catch (error) {
      if (!/MessageNotInflight|ReceiptHandleIsInvalid/.test(errorName(error))) throw error;
    }
  }
}

/** Messages in a queue: visible, in flight and delayed (SQS's approximate counts, added). */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<number> {
  const out = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}
