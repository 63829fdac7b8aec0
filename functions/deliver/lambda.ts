// Lambda entry of "deliver" (NodejsFunction bundles this file): AWS adapters, DNS, SMTP courier, metrics flushed per invocation.
import { deliverDepsFromEnv } from "#adapters/aws/deliver-deps.ts";
import { meteredHandler } from "#adapters/aws/function-deps.ts";
import { createLogger, useCaseLog } from "#functions/shared/logger.ts";
import { makeDeliverHandler } from "./handler.ts";

// Built once per execution environment, so SDK clients, the record cache and DNS resolvers are reused.
const logger = createLogger("relay-deliver");
const { deps, metrics } = deliverDepsFromEnv(useCaseLog(logger));

export const handler = meteredHandler(makeDeliverHandler({ ...deps, logger }), metrics);
