// Runs a listener as a service: its health endpoint, and SIGTERM/SIGINT draining it before the process ends.
import type { Metrics } from "#core/metrics.ts";
import { type HealthServer, startHealthServer } from "./health.ts";
import type { Logger } from "./logger.ts";
import { createListener, type Listener, type ListenerDeps } from "./server.ts";

export interface RunningListener {
  listener: Listener;
  health: HealthServer | undefined;
  /** Drains the listener, then closes the health endpoint and writes the last metrics. */
  stop(): Promise<void>;
}

/**
 * Starts the listener and its health endpoint. With `handleSignals`, SIGTERM (ECS stopping the
 * task) and SIGINT drain it — the health endpoint turns 503 at once so the balancer stops sending —
 * and then end the process.
 */
export async function runListener(
  deps: ListenerDeps & { logger: Logger; metrics?: Metrics & { close?(): void } },
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
      // What was counted since the last periodic flush, before the process ends.
      deps.metrics?.close?.();
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
