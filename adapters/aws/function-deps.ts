// The route function's dependencies in AWS (deliver builds on them): adapters from the environment, metrics flushed per invocation.
import type { EmfMetrics } from "#adapters/observability/metrics.ts";
import { recordCacheLogging } from "#core/records/cache.ts";
import type { RouteDeps, UseCaseLog } from "#core/usecases/deps.ts";
import { RELAY_ENV } from "./env.ts";
import {
  type AwsAdapters,
  type AwsClients,
  awsAdaptersFromEnv,
  defaultClients,
} from "./from-env.ts";
import { metricsFromEnv } from "./metrics.ts";

type Env = Record<string, string | undefined>;

export interface FunctionWiring<D> {
  deps: D;
  /** The use cases' counts; `meteredHandler` writes them (EMF) at the end of each invocation. */
  metrics: EmfMetrics;
}

export interface WiringOptions {
  /** Where EMF metric lines go. @default stdout, where Lambda's log agent picks them up */
  writeMetrics?: (line: string) => void;
}

const positiveInt = (text: string | undefined): number | undefined => {
  const n = Number(text);
  return text && Number.isInteger(n) && n > 0 ? n : undefined;
};

/** What route needs (and deliver shares): queues, stores, records, clock, metrics, tunables. */
export function relayDepsFromEnv(
  log: UseCaseLog,
  env: Env = process.env,
  clients: AwsClients = defaultClients(),
  options: WiringOptions = {},
): FunctionWiring<RouteDeps> & { adapters: AwsAdapters } {
  const adapters = awsAdaptersFromEnv(env, clients, recordCacheLogging(log));
  const metrics = metricsFromEnv(
    env,
    log,
    options.writeMetrics ? { write: options.writeMetrics } : {},
  );
  const hostName = env[RELAY_ENV.hostName];
  const inlineBodyLimit = positiveInt(env[RELAY_ENV.claimCheckThresholdBytes]);
  const maxReceiveCount = positiveInt(env[RELAY_ENV.maxReceiveCount]);
  return {
    adapters,
    metrics,
    deps: {
      records: adapters.recordCache,
      tracking: adapters.trackingStore,
      messages: adapters.messageStore,
      submissionQueue: adapters.submissionQueue,
      deliveryQueue: adapters.deliveryQueue,
      clock: { now: () => new Date() },
      log,
      metrics,
      ...(hostName ? { hostName } : {}),
      ...(inlineBodyLimit ? { inlineBodyLimit } : {}),
      ...(maxReceiveCount ? { maxReceiveCount } : {}),
    },
  };
}

/**
 * Wraps a handler so the metrics counted during an invocation are written when it ends (Lambda may
 * freeze the environment right after, so nothing is left buffered for a timer).
 */
export function meteredHandler<E, C, R>(
  handler: (event: E, context: C) => Promise<R>,
  metrics: { flush(): void },
): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    try {
      return await handler(event, context);
    } finally {
      metrics.flush();
    }
  };
}
