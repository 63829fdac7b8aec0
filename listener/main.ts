// Process entry of the listener container (Fargate): settings from the environment, AWS adapters, health endpoint, SIGTERM drain.
import { DynamoRateCounterStore } from "#adapters/aws/dynamodb-rate-counters.ts";
import { awsAdaptersFromEnv, defaultClients, RELAY_ENV } from "#adapters/aws/from-env.ts";
import { metricsFromEnv } from "#adapters/aws/metrics.ts";
import { PERIODIC_FLUSH_MS } from "#adapters/observability/metrics.ts";
import { recordCacheLogging } from "#core/records/cache.ts";
import type { ListenerConfigInput } from "./config.ts";
import { listenerLog } from "./logger.ts";
import { LogProtocolLog } from "./protocol-log.ts";
import { runListener } from "./run.ts";
import { secretTlsSource } from "./tls.ts";

type Env = Record<string, string | undefined>;

/** Load balancers allowed to send PROXY headers, comma-separated addresses or ranges. */
export const TRUSTED_PROXIES_ENV = "RELAY_TRUSTED_PROXIES";
export const SHUTDOWN_DEADLINE_ENV = "RELAY_SHUTDOWN_DEADLINE_MS";
/** How often the certificate secret and CA bundle secrets are re-read; default 300 (5 minutes). */
export const TLS_RELOAD_ENV = "RELAY_TLS_RELOAD_SECONDS";

const positive = (text: string | undefined): number | undefined => {
  const n = Number(text);
  return text && Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** Listener settings from the variables the CDK stack sets (adapters/aws/env.ts); TLS comes from its secret. */
export function listenerConfigFromEnv(env: Env): ListenerConfigInput {
  const hostName = env[RELAY_ENV.hostName];
  if (!hostName) throw new Error(`${RELAY_ENV.hostName} is not set`);
  const bindPorts = env[RELAY_ENV.bindPorts];
  const healthPort = positive(env[RELAY_ENV.healthPort]);
  const inline = positive(env[RELAY_ENV.claimCheckThresholdBytes]);
  const deadline = positive(env[SHUTDOWN_DEADLINE_ENV]);
  const tlsReload = positive(env[TLS_RELOAD_ENV]);
  return {
    hostName,
    trustedProxies: (env[TRUSTED_PROXIES_ENV] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    ...(bindPorts ? { bindPorts: JSON.parse(bindPorts) as Record<string, number> } : {}),
    ...(healthPort !== undefined ? { healthPort } : {}),
    ...(inline !== undefined ? { inlineBodyLimit: inline } : {}),
    ...(deadline !== undefined ? { shutdownDeadlineMs: deadline } : {}),
    ...(tlsReload ? { tlsReloadIntervalMs: tlsReload * 1000 } : {}),
  };
}

/** The container's entry: AWS adapters from the task's environment, TLS from Secrets Manager. */
async function main(): Promise<void> {
  const logger = listenerLog();
  const clients = defaultClients();
  const adapters = awsAdaptersFromEnv(process.env, clients, recordCacheLogging(logger));
  // The secret holds {"cert": "<PEM chain>", "key": "<PEM>"} (infra/constructs/storage.ts); the
  // listener refuses to start when it is unusable, and later keeps the last good one.
  const tlsSecret = process.env[RELAY_ENV.tlsSecret];
  // Without the table (an older stack) counts stay per task: the limits still hold, per task.
  const limitsTable = process.env[RELAY_ENV.limitsTable];
  if (!limitsTable)
    logger.warn(
      `${RELAY_ENV.limitsTable} is not set; rate limits and AUTH lockouts count per task`,
    );
  await runListener(
    {
      records: adapters.recordCache,
      queue: adapters.submissionQueue,
      messageStore: adapters.messageStore,
      config: listenerConfigFromEnv(process.env),
      logger,
      ...(tlsSecret ? { tlsSource: secretTlsSource(adapters.secretStore, tlsSecret) } : {}),
      metrics: metricsFromEnv(process.env, logger, { flushEveryMs: PERIODIC_FLUSH_MS }),
      protocolLog: new LogProtocolLog(logger),
      ...(limitsTable
        ? {
            counters: new DynamoRateCounterStore({
              client: clients.dynamo,
              tableName: limitsTable,
            }),
          }
        : {}),
    },
    { handleSignals: true },
  );
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    listenerLog().error("listener failed to start", { error });
    process.exit(1);
  });
}
