// Lambda "deliver": delivery queue → one SMTP attempt per job (core use case deliverJob).
import { deliverJob } from "#core/usecases/deliver.ts";
import { parseDeliveryJob } from "#core/usecases/queue-messages.ts";
import { sqsBatchHandler } from "#functions/shared/batch.ts";
import { type DeliverHandlerDeps, withLogger } from "#functions/shared/deps.ts";
import { loggerProtocolLog } from "#functions/shared/logger.ts";

export function makeDeliverHandler(input: DeliverHandlerDeps) {
  const { logger, deps } = withLogger(input, "relay-deliver");
  const withProtocolLog = { ...deps, protocolLog: deps.protocolLog ?? loggerProtocolLog(logger) };
  return sqsBatchHandler({
    queue: "delivery",
    deps: withProtocolLog,
    logger,
    parse: parseDeliveryJob,
    process: (job, receiveCount) => deliverJob(withProtocolLog, job, receiveCount),
  });
}

// AWS entry point: `export const handler = makeDeliverHandler(...)` with the AWS adapters built
// from the environment, added with the AWS wiring (see functions/shared/deps.ts).
