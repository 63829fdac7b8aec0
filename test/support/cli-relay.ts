// A running local relay (npm start) with records of the test's choosing, and the `relay` CLI pointed at its RELAY_HOME.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliResult, parseJsonResult, runCli } from "./cli.ts";
import {
  appsConnector,
  freePort,
  type RelayProcess,
  startRelayProcess,
  waitFor,
  writeRecords,
} from "./relay-process.ts";
import { RawSmtpClient, transaction } from "./smtp-client.ts";

export interface CliRelay {
  home: string;
  /** The port of the "Apps" receive connector: anonymous relay from loopback. */
  port: number;
  relay: RelayProcess;
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** `--json` output parsed; fails with the CLI's stderr when it did not exit 0. */
  json<T = unknown>(args: string[]): Promise<T>;
  stop(): Promise<void>;
}

/** Starts the relay with an "Apps" connector (anonymous relay from 127.0.0.0/8) plus `records`. */
export async function startCliRelay(
  records: Record<string, unknown>[],
  env: Record<string, string> = {},
): Promise<CliRelay> {
  const home = await mkdtemp(join(tmpdir(), "relay-cli-live-"));
  const port = await freePort();
  await writeRecords(home, [appsConnector(port, { tarpitInterval: 5 }), ...records]);
  const relay = startRelayProcess(home, env);
  await relay.ready;
  const cli = (args: string[], env?: Record<string, string>) =>
    runCli(args, { home, ...(env ? { env } : {}) });
  return {
    home,
    port,
    relay,
    cli,
    async json<T>(args: string[]): Promise<T> {
      return parseJsonResult<T>(await cli([...args, "--json"]), args);
    },
    async stop() {
      await relay.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Sends one message over SMTP and resolves the relay's message id from its 250 2.6.0 reply. */
export async function submit(
  port: number,
  from: string,
  to: string[],
  subject = "Quarterly report",
): Promise<string> {
  const c = await RawSmtpClient.connect({ host: "127.0.0.1", port });
  await c.read();
  await c.command("EHLO app.contoso.com");
  const t = await transaction(
    c,
    from,
    to,
    `From: <${from}>\r\nTo: <${to[0]}>\r\nSubject: ${subject}\r\n\r\nHello.\r\n`,
  );
  await c.command("QUIT").catch(() => undefined);
  c.destroy();
  const id = /<(\d{8}T\d{6}Z-[0-9a-f]{12})>/.exec(t.end?.text ?? "")?.[1];
  if (!id) throw new Error(`not queued: ${JSON.stringify(t)}`);
  return id;
}

export { waitFor };
