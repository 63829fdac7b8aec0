// Lambda entry of "route" (NodejsFunction bundles this file): AWS adapters from the environment, metrics flushed per invocation.
import { meteredHandler } from "#adapters/aws/function-deps.ts";
import { routeDepsFromEnv } from "#adapters/aws/route-deps.ts";
import { createLogger, useCaseLog } from "#functions/shared/logger.ts";
import { makeRouteHandler } from "./handler.ts";

// Built once per execution environment, so SDK clients and the record cache live across invocations.
const logger = createLogger("relay-route");
const { deps, metrics } = routeDepsFromEnv(useCaseLog(logger));

export const handler = meteredHandler(makeRouteHandler({ ...deps, logger }), metrics);
