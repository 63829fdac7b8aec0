// Receive protocol log (Exchange's SmtpReceive log): the SMTP conversation per connector as JSON lines, never credentials.

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
 * A client line as it may be logged. The argument of AUTH (a PLAIN blob, a LOGIN user name) and
 * every line of a SASL exchange carry credentials: only the mechanism is kept.
 */
export function redactClientLine(line: string, inSaslExchange: boolean): string {
  if (inSaslExchange) return "****";
  const auth = /^\s*AUTH\s+(\S+)(\s+\S)?/i.exec(line);
  if (auth) return auth[2] ? `AUTH ${auth[1]} ****` : `AUTH ${auth[1]}`;
  return line;
}
