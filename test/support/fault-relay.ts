// Local mode in-process for fault tests: a throwaway RELAY_HOME, an anonymous relay connector, a one-second retry schedule, captured logs.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecipientRow } from "#core/ports.ts";
import type { Logger } from "#listener/logger.ts";
import { type LocalRelay, startLocalRelay } from "#local/relay.ts";
import {
  appsConnector,
  freePort,
  smartHostConnector,
  waitFor,
  writeRecords,
} from "./relay-process.ts";
import { RawSmtpClient, type SmtpReplyLines, transaction } from "./smtp-client.ts";

export interface FaultRelay {
  relay: LocalRelay;
  /** Port of the anonymous relay connector "Apps". */
  port: number;
  home: string;
  logs: Array<{ level: string; message: string; fields?: Record<string, unknown> }>;
  /** Tracking rows of a message (as the 250 reply named it). */
  rows(messageId: string): Promise<RecipientRow[]>;
  /** Waits until every row of the message satisfies `check`. */
  waitRows(
    messageId: string,
    what: string,
    check: (r: RecipientRow) => boolean,
    timeoutMs?: number,
  ): Promise<RecipientRow[]>;
  stop(): Promise<void>;
}

/**
 * Retries every second, so a fault test sees several attempts in seconds instead of minutes; a
 * dead host's circuit opens for 1–2 s instead of 60–900 s, so the retries still reach it once it
 * is back (the circuit itself is tested in deliver-limits-*.test.ts).
 */
export const FAST_RETRY = {
  kind: "TransportSettings",
  name: "default",
  retrySchedule: [{ intervalSeconds: 1, count: 100 }],
  circuitBreakerOpenSeconds: 1,
  circuitBreakerMaxOpenSeconds: 2,
};

export { appsConnector, smartHostConnector };

export async function startFaultRelay(
  sendConnectors: Array<Record<string, unknown>>,
  options: {
    smtpTimeoutMs?: number;
    /** Fields that replace the "Apps" receive connector's (limits, timeouts). */
    receive?: Record<string, unknown>;
  } = {},
): Promise<FaultRelay> {
  const home = await mkdtemp(join(tmpdir(), "relay-fault-"));
  const port = await freePort();
  await writeRecords(home, [
    { ...appsConnector(port), ...options.receive },
    FAST_RETRY,
    ...sendConnectors,
  ]);
  const logs: FaultRelay["logs"] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    logs.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { info: at("info"), warn: at("warn"), error: at("error") };
  const relay = await startLocalRelay({
    home,
    hostName: "relay.test",
    logger,
    smtpTimeoutMs: options.smtpTimeoutMs ?? 2000,
  });
  const rows = (id: string) => relay.tracking.listByMessage(id);
  return {
    relay,
    port,
    home,
    logs,
    rows,
    async waitRows(id, what, check, timeoutMs = 30_000) {
      let last: RecipientRow[] = [];
      const done = async () => {
        last = await rows(id);
        return last.length > 0 && last.every(check);
      };
      await waitFor(what, done, timeoutMs).catch((error: Error) => {
        throw new Error(`${error.message}; rows now: ${JSON.stringify(last)}`);
      });
      return last;
    },
    async stop() {
      await relay.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}

export interface Submitted {
  /** The reply to the final dot. */
  reply: SmtpReplyLines;
  /** The relay's message id from "250 2.6.0 <id> Queued…", when queued. */
  id?: string;
}

/** One SMTP transaction to the relay; `body` is sent as given (already dot-stuffed). */
export async function submit(
  port: number,
  message: { from: string; to: string[]; subject: string; body?: string },
): Promise<Submitted> {
  const client = await RawSmtpClient.connect({ host: "127.0.0.1", port });
  try {
    await client.read();
    await client.command("EHLO app.test");
    const text = `From: <${message.from}>\r\nTo: ${message.to.map((t) => `<${t}>`).join(", ")}\r\nSubject: ${message.subject}\r\n\r\n${message.body ?? "Hello."}\r\n`;
    const t = await transaction(client, message.from, message.to, text);
    const reply = t.end ?? t.data ?? t.rcpt.at(-1) ?? t.mail;
    const id = reply.code === 250 ? /<([^>]+)>/.exec(reply.text)?.[1] : undefined;
    await client.command("QUIT").catch(() => undefined);
    return { reply, ...(id ? { id } : {}) };
  } finally {
    client.destroy();
  }
}
