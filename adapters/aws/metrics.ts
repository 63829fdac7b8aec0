// The relay's metrics in AWS, named by the stack's variables: its namespace, and the stack as the `service` dimension.
import { EmfMetrics } from "#adapters/observability/metrics.ts";
import type { Log } from "#core/log.ts";
import { RELAY_ENV } from "./env.ts";

type Env = Record<string, string | undefined>;

export interface MetricsWiring {
  /** Where EMF lines go (one line each, no newline). @default stdout, which CloudWatch Logs receives */
  write?: (line: string) => void;
  /** Also flush every this many ms: the listener's tasks run for days; a Lambda flushes per invocation. */
  flushEveryMs?: number;
}

export function metricsFromEnv(env: Env, log: Log, wiring: MetricsWiring = {}): EmfMetrics {
  const { write, flushEveryMs } = wiring;
  return new EmfMetrics({
    ...(env[RELAY_ENV.metricsNamespace] ? { namespace: env[RELAY_ENV.metricsNamespace] } : {}),
    ...(env[RELAY_ENV.metricsService] ? { service: env[RELAY_ENV.metricsService] } : {}),
    ...(write ? { out: { write: (line: string) => write(line.trimEnd()) } } : {}),
    ...(flushEveryMs ? { flushEveryMs } : {}),
    log,
  });
}
