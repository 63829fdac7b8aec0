// What the Lambda handler factories take: the use cases' ports plus the function's logger.
//
// The AWS wiring (adapters built from the environment, `export const handler = ...` in each
// handler module) belongs with the AWS adapters; the local runner calls the same factories with
// local adapters. Both build one of these and pass it to makeRouteHandler / makeDeliverHandler.
import type { Logger } from "@aws-lambda-powertools/logger";
import type { DeliverDeps, RouteDeps } from "#core/usecases/deps.ts";
import { createLogger, useCaseLog } from "./logger.ts";

export interface FunctionDeps {
  /** Defaults to a Powertools logger named after the function. */
  logger?: Logger;
}

export type RouteHandlerDeps = RouteDeps & FunctionDeps;
export type DeliverHandlerDeps = DeliverDeps & FunctionDeps;

/** The logger, and the deps with the use-case log bridged to it unless the caller gave one. */
export function withLogger<D extends FunctionDeps & { log?: RouteDeps["log"] }>(
  deps: D,
  serviceName: string,
): { logger: Logger; deps: D } {
  const logger = deps.logger ?? createLogger(serviceName);
  return { logger, deps: { ...deps, log: deps.log ?? useCaseLog(logger) } };
}
