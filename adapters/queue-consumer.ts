// The consumer side of a queue (what Lambda's event source mapping does in AWS), shared by the memory and local queues.

export interface ReceivedMessage<T> {
  messageId: string;
  receiptHandle: string;
  body: T;
  /** 1 on the first receive (SQS ApproximateReceiveCount). */
  receiveCount: number;
  /** Epoch milliseconds when the message was first sent. */
  sentAt: number;
}

export interface QueueConsumer<T> {
  receive(
    max?: number,
    visibilityTimeoutSeconds?: number,
  ): Promise<ReceivedMessage<T>[]> | ReceivedMessage<T>[];
  /** Removes a received message; a stale receipt handle is ignored, as in SQS. */
  delete(receiptHandle: string): Promise<void> | void;
  changeVisibility(receiptHandle: string, seconds: number): Promise<void> | void;
}
