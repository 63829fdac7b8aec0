// The queues' limits both runtimes share: SQS's longest delay and how many receives a failing message gets.

/** SQS accepts DelaySeconds 0..900 (15 minutes); longer waits are chained through DeliveryJob.notBefore. */
export const MAX_DELAY_SECONDS = 900;

/**
 * Receives before a failing message moves to the dead-letter queue: the AWS queues' redrive
 * maxReceiveCount (infra/config.ts `maxReceiveCount`) and the local queues'. On the last one the
 * batch layer writes the reason to tracking.
 */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
