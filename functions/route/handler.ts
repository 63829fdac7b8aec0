// Lambda "route": submission queue → tracking rows and delivery jobs (core use case routeMessage).

import { parseSubmittedMessage } from "#core/usecases/queue-messages.ts";
import { routeMessage } from "#core/usecases/route.ts";
import { sqsBatchHandler } from "#functions/shared/batch.ts";
import { type RouteHandlerDeps, withLogger } from "#functions/shared/deps.ts";

export function makeRouteHandler(input: RouteHandlerDeps) {
  const { logger, deps } = withLogger(input, "relay-route");
  return sqsBatchHandler({
    queue: "submission",
    deps,
    logger,
    parse: parseSubmittedMessage,
    process: (message, receiveCount) => routeMessage(deps, message, receiveCount),
  });
}

// AWS entry point: `export const handler = makeRouteHandler(...)` with the AWS adapters built from
// the environment, added with the AWS wiring (see functions/shared/deps.ts).
