// What the queue, message and track verbs need from a back end: the admin use cases' ports plus queue depths and dead letters.
import type { DeliveryJob, SubmittedMessage } from "#core/message.ts";
import type { AdminDeps } from "#core/usecases/admin.ts";
import type { DeadLetterQueue } from "#core/usecases/admin-redrive.ts";

/** A message in a dead-letter queue as the Poison queue lists it. */
export interface DeadLetter {
  queue: "submission" | "delivery";
  /** The queue's own id for it. */
  id: string;
  body: Partial<DeliveryJob & SubmittedMessage>;
  sentAt?: number;
}

export interface QueueBackend {
  deps: AdminDeps;
  /** Messages in the submission queue (not routed yet), when the runtime can count them. */
  submissionCount(): Promise<number | undefined>;
  /** Messages in both dead-letter queues; undefined when they are not known. */
  poisonCount(): Promise<number | undefined>;
  /** The dead letters themselves, where they can be read without taking them. */
  deadLetters(): Promise<DeadLetter[] | undefined>;
  /** Both dead-letter queues with the way back to their sources. */
  deadLetterQueues(): DeadLetterQueue[];
  close(): void;
}
