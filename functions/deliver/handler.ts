// Lambda "deliver": delivery queue → one SMTP attempt per job (core use case deliverJob).
import { type DeliverResult, deliverJob } from "#core/usecases/deliver.ts";
import { parseDeliveryJob } from "#core/usecases/queue-messages.ts";
import { oncePerKey, sqsBatchHandler } from "#functions/shared/batch.ts";
import { type DeliverHandlerDeps, withLogger } from "#functions/shared/deps.ts";
import { loggerProtocolLog } from "#functions/shared/logger.ts";

export function makeDeliverHandler(input: DeliverHandlerDeps) {
  const { logger, deps: base } = withLogger(input, "relay-deliver");
  const deps = { ...base, protocolLog: base.protocolLog ?? loggerProtocolLog(logger) };
  return sqsBatchHandler({
    queue: "delivery",
    deps,
    logger,
    parse: parseDeliveryJob,
    describe: (job) => ({
      messageId: job.messageId,
      recipients: job.recipients,
      sender: job.mailFrom,
    }),
    process: oncePerKey(
      (job) => `${job.jobId}#${job.attempts}`,
      // The attempt must end inside the function's timeout: a function killed at its timeout
      // returns its whole batch to the queue, and every job in it would be sent again.
      (job, context) => deliverJob(deps, job, context?.getRemainingTimeInMillis()),
      (): DeliverResult => ({ kind: "nothing-to-do", reason: "the same job is in flight" }),
    ),
  });
}

// AWS entry point: functions/deliver/lambda.ts builds the AWS adapters from the environment; the
// local runner calls this factory with local adapters.
