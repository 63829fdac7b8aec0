// Starts the console for `npm start` and `relay console` alike: port, address and certificate from flags or RELAY_CONSOLE_* variables.
import { readFile } from "node:fs/promises";
import type { CliContext } from "#cli/context.ts";
import { ConsoleConfigError, type RunningConsole, startConsole } from "./server.ts";

export const DEFAULT_CONSOLE_PORT = 2580;

export interface ConsoleSettings {
  port?: string;
  address?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** RELAY_CONSOLE_PORT (0: no console), RELAY_CONSOLE_ADDRESS, RELAY_CONSOLE_TLS_CERT and _KEY. */
export const consoleEnv = (env: NodeJS.ProcessEnv = process.env): ConsoleSettings => ({
  ...(env.RELAY_CONSOLE_PORT ? { port: env.RELAY_CONSOLE_PORT } : {}),
  ...(env.RELAY_CONSOLE_ADDRESS ? { address: env.RELAY_CONSOLE_ADDRESS } : {}),
  ...(env.RELAY_CONSOLE_TLS_CERT ? { tlsCert: env.RELAY_CONSOLE_TLS_CERT } : {}),
  ...(env.RELAY_CONSOLE_TLS_KEY ? { tlsKey: env.RELAY_CONSOLE_TLS_KEY } : {}),
});

export function consolePort(value: string | undefined, fallback = DEFAULT_CONSOLE_PORT): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535)
    throw new ConsoleConfigError(`console port "${value}" is not a port number from 0 to 65535`);
  return n;
}

export async function serveConsole(
  ctx: CliContext,
  settings: ConsoleSettings,
  runtime: string,
  allowAnyPort = false,
): Promise<RunningConsole> {
  const port = consolePort(settings.port);
  if (port === 0 && !allowAnyPort) throw new ConsoleConfigError("the console is off (port 0)");
  if ((settings.tlsCert === undefined) !== (settings.tlsKey === undefined))
    throw new ConsoleConfigError(
      "HTTPS needs both a certificate and its key (--tls-cert and --tls-key)",
    );
  const tls =
    settings.tlsCert !== undefined && settings.tlsKey !== undefined
      ? { cert: await readFile(settings.tlsCert), key: await readFile(settings.tlsKey) }
      : undefined;
  return startConsole({
    ctx,
    port,
    runtime,
    ...(settings.address ? { host: settings.address } : {}),
    ...(tls ? { tls } : {}),
  });
}
