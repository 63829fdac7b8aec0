// Receive protocol log (Exchange's SmtpReceive log): the SMTP conversation per connector as JSON lines, never credentials.
import type { Log } from "#core/log.ts";

/** Exchange's event column: + connect, - disconnect, < from the client, > to the client, * information. */
export type ProtocolEvent = "+" | "-" | "<" | ">" | "*";

export interface ProtocolLogEntry {
  /** ISO 8601 time. */
  at: string;
  connector: string;
  /** The SMTP session id (smtp-server's connection id). */
  session: string;
  /** Order within the session, from 0. */
  sequence: number;
  /** "ip:port" of the listener and of the client (the real client, after PROXY). */
  local: string;
  remote: string;
  event: ProtocolEvent;
  data: string;
}

/** Where protocol log entries go; `write` must not throw and must not block the session. */
export interface ProtocolLogSink {
  write(entry: ProtocolLogEntry): void;
}

/** One JSON object per line, e.g. to a file stream locally or stdout in a container. */
export class JsonLinesProtocolLog implements ProtocolLogSink {
  readonly #out: { write(text: string): unknown };
  constructor(out: { write(text: string): unknown }) {
    this.#out = out;
  }
  write(entry: ProtocolLogEntry): void {
    this.#out.write(`${JSON.stringify(entry)}\n`);
  }
}

/**
 * Entries as lines of the operational log (message "smtp-receive", the entry as fields): in AWS the
 * conversation lands in the same log group and shape as everything else, as the functions' send
 * protocol log does ("smtp-send"), so one Logs Insights query follows a message across both.
 */
export class LogProtocolLog implements ProtocolLogSink {
  readonly #log: Log;
  constructor(log: Log) {
    this.#log = log;
  }
  write(entry: ProtocolLogEntry): void {
    this.#log.info("smtp-receive", { ...entry });
  }
}

const hostPort = (a: { ip: string; port: number }) =>
  a.ip.includes(":") ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;

/** The log function of one session: numbers its entries and never lets the sink fail the session. */
export function sessionProtocolLog(
  sink: ProtocolLogSink,
  s: {
    connector: string;
    session: string;
    local: { ip: string; port: number };
    remote: { ip: string; port: number };
  },
): (event: ProtocolEvent, data: string) => void {
  let sequence = 0;
  const local = hostPort(s.local);
  const remote = hostPort(s.remote);
  return (event, data) => {
    try {
      sink.write({
        at: new Date().toISOString(),
        connector: s.connector,
        session: s.session,
        sequence: sequence++,
        local,
        remote,
        event,
        data,
      });
    } catch {
      // A full disk or a closed stream must not take the session down with it.
    }
  };
}

/**
 * A client line as it may be logged. The argument of AUTH (a PLAIN blob, a LOGIN user name) and
 * every line of a SASL exchange carry credentials: only the mechanism is kept.
 */
export function redactClientLine(line: string, inSaslExchange: boolean): string {
  if (inSaslExchange) return "****";
  const auth = /^\s*AUTH\s+(\S+)(\s+\S)?/i.exec(line);
  if (auth) return auth[2] ? `AUTH ${auth[1]} ****` : `AUTH ${auth[1]}`;
  return line;
}
