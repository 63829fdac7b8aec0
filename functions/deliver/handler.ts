// Lambda "deliver": delivery queue → one SMTP attempt per job (core use case deliverJob).
import type { DeliveryJob } from "#core/message.ts";
import { type DeliverResult, deliverJob } from "#core/usecases/deliver.ts";
import { parseDeliveryJob } from "#core/usecases/queue-messages.ts";
import { sqsBatchHandler } from "#functions/shared/batch.ts";
import { type DeliverHandlerDeps, withLogger } from "#functions/shared/deps.ts";
import { loggerProtocolLog } from "#functions/shared/logger.ts";

export function makeDeliverHandler(input: DeliverHandlerDeps) {
  const { logger, deps } = withLogger(input, "relay-deliver");
  const withProtocolLog = { ...deps, protocolLog: deps.protocolLog ?? loggerProtocolLog(logger) };
  // Tracking stops a duplicate job once the first copy has finished; two copies of one job in the
  // same batch (or the local runner's concurrent batches) run at the same moment, so the second is
  // dropped here: the first copy stays in the queue if it fails.
  const inFlight = new Set<string>();
  const process = async (job: DeliveryJob, receiveCount: number): Promise<DeliverResult> => {
    const key = `${job.jobId}#${job.attempts}`;
    if (inFlight.has(key)) return { kind: "nothing-to-do", reason: "the same job is in flight" };
    inFlight.add(key);
    try {
      return await deliverJob(withProtocolLog, job, receiveCount);
    } finally {
      inFlight.delete(key);
    }
  };
  return sqsBatchHandler({
    queue: "delivery",
    deps: withProtocolLog,
    logger,
    parse: parseDeliveryJob,
    process,
  });
}

// AWS entry point: `export const handler = makeDeliverHandler(...)` with the AWS adapters built
// from the environment, added with the AWS wiring (see functions/shared/deps.ts).
