// Lambda "route": submission queue → tracking rows and delivery jobs (core use case routeMessage).
import { parseSubmittedMessage } from "#core/usecases/queue-messages.ts";
import { type RouteOutcome, routeMessage } from "#core/usecases/route.ts";
import { oncePerKey, sqsBatchHandler } from "#functions/shared/batch.ts";
import { type RouteHandlerDeps, withLogger } from "#functions/shared/deps.ts";

export function makeRouteHandler(input: RouteHandlerDeps) {
  const { logger, deps } = withLogger(input, "relay-route");
  return sqsBatchHandler({
    queue: "submission",
    deps,
    logger,
    parse: parseSubmittedMessage,
    describe: (message) => ({
      messageId: message.id,
      recipients: message.envelope.rcptTo,
      sender: message.envelope.mailFrom,
    }),
    process: oncePerKey(
      (message) => message.id,
      (message) => routeMessage(deps, message),
      (message): RouteOutcome => ({
        messageId: message.id,
        jobs: [],
        unroutable: [],
        alreadyRouted: message.envelope.rcptTo,
      }),
    ),
  });
}

// AWS entry point: functions/route/lambda.ts builds the AWS adapters from the environment; the
// local runner calls this factory with local adapters.
