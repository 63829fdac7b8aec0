// Process entry of the listener container (Fargate): settings from the environment, AWS adapters, health endpoint, SIGTERM drain.
import { awsAdaptersFromEnv, defaultClients, RELAY_ENV } from "#adapters/aws/from-env.ts";
import type { ListenerConfigInput } from "./config.ts";
import { type HealthServer, startHealthServer } from "./health.ts";
import { jsonLogger, type Logger } from "./logger.ts";
import { JsonLinesProtocolLog } from "./protocol-log.ts";
import { createListener, type Listener, type ListenerDeps } from "./server.ts";

type Env = Record<string, string | undefined>;

/** Load balancers allowed to send PROXY headers, comma-separated addresses or ranges. */
export const TRUSTED_PROXIES_ENV = "RELAY_TRUSTED_PROXIES";
export const SHUTDOWN_DEADLINE_ENV = "RELAY_SHUTDOWN_DEADLINE_MS";

const positive = (text: string | undefined): number | undefined => {
  const n = Number(text);
  return text && Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** Listener settings from the variables the CDK stack sets (adapters/aws/env.ts); TLS comes separately. */
export function listenerConfigFromEnv(
  env: Env,
  tls?: { cert: string; key: string },
): ListenerConfigInput {
  const hostName = env[RELAY_ENV.hostName];
  if (!hostName) throw new Error(`${RELAY_ENV.hostName} is not set`);
  const bindPorts = env[RELAY_ENV.bindPorts];
  const healthPort = positive(env[RELAY_ENV.healthPort]);
  const inline = positive(env[RELAY_ENV.claimCheckThresholdBytes]);
  const deadline = positive(env[SHUTDOWN_DEADLINE_ENV]);
  return {
    hostName,
    ...(tls ? { tls } : {}),
    trustedProxies: (env[TRUSTED_PROXIES_ENV] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    ...(bindPorts ? { bindPorts: JSON.parse(bindPorts) as Record<string, number> } : {}),
    ...(healthPort !== undefined ? { healthPort } : {}),
    ...(inline !== undefined ? { inlineBodyLimit: inline } : {}),
    ...(deadline !== undefined ? { shutdownDeadlineMs: deadline } : {}),
  };
}

export interface RunningListener {
  listener: Listener;
  health: HealthServer | undefined;
  /** Drains the listener, then closes the health endpoint. */
  stop(): Promise<void>;
}

/**
 * Starts the listener and its health endpoint. With `handleSignals`, SIGTERM (ECS stopping the
 * task) and SIGINT drain it — the health endpoint turns 503 at once so the balancer stops sending —
 * and then end the process.
 */
export async function runListener(
  deps: ListenerDeps & { logger: Logger },
  options: { handleSignals?: boolean; exit?: (code: number) => void } = {},
): Promise<RunningListener> {
  const listener = createListener(deps);
  await listener.start();
  const { healthPort, healthHost } = deps.config;
  const health =
    healthPort === undefined
      ? undefined
      : await startHealthServer({
          host: healthHost ?? "0.0.0.0",
          port: healthPort,
          status: () => ({
            healthy: listener.state === "running",
            details: {
              state: listener.state,
              sessions: listener.sessionCount,
              bindings: listener.addresses().length,
            },
          }),
        });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await listener.stop();
      await health?.close();
    })();
    return stopping;
  };
  if (options.handleSignals) {
    const exit = options.exit ?? ((code: number) => process.exit(code));
    const onSignal = (signal: string) => {
      deps.logger.info("draining", { signal, sessions: listener.sessionCount });
      void stop().then(
        () => exit(0),
        (error: unknown) => {
          deps.logger.error("shutdown failed", { error });
          exit(1);
        },
      );
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }
  deps.logger.info("listener started", { addresses: listener.addresses() });
  return { listener, health, stop };
}

/** The container's entry: AWS adapters from the task's environment, TLS from Secrets Manager. */
async function main(): Promise<void> {
  const logger = jsonLogger();
  const adapters = awsAdaptersFromEnv(process.env, defaultClients(), {
    onProblem: (p, text) =>
      logger.warn("record skipped", { record: p.record, field: p.field, problem: text }),
    onError: (error) =>
      logger.error("records could not be read; using the last good set", { error }),
  });
  const tlsSecret = process.env[RELAY_ENV.tlsSecret];
  let tls: { cert: string; key: string } | undefined;
  if (tlsSecret) {
    // The secret holds {"cert": "<PEM chain>", "key": "<PEM>"} (infra/constructs/storage.ts).
    const parsed = JSON.parse(await adapters.secretStore.get(tlsSecret)) as Partial<typeof tls>;
    if (!parsed?.cert || !parsed.key) throw new Error(`secret ${tlsSecret} needs "cert" and "key"`);
    tls = { cert: parsed.cert, key: parsed.key };
  }
  await runListener(
    {
      records: adapters.recordCache,
      queue: adapters.submissionQueue,
      messageStore: adapters.messageStore,
      config: listenerConfigFromEnv(process.env, tls),
      logger,
      protocolLog: new JsonLinesProtocolLog(process.stdout),
    },
    { handleSignals: true },
  );
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    jsonLogger().error("listener failed to start", { error });
    process.exit(1);
  });
}
