// Turns nodemailer's transaction log into send protocol log lines (Exchange's SmtpSend log), with AUTH credentials redacted.
import { format } from "node:util";
import type { CourierRequest } from "#core/ports.ts";

type ProtocolLog = NonNullable<CourierRequest["protocolLog"]>;

/** The bunyan-style logger nodemailer calls: an entry object, then a format string and its arguments. */
export type NodemailerLogger = Record<
  "trace" | "debug" | "info" | "warn" | "error" | "fatal",
  (entry: { tnx?: string }, message: string, ...args: unknown[]) => void
>;

/**
 * nodemailer already masks passwords, but its AUTH PLAIN line still carries the user name in
 * base64 and AUTH LOGIN sends it as its own line; an admin's log must carry neither. So the AUTH
 * command keeps only its mechanism, and every client line of the SASL exchange (after a 334
 * challenge, until the final reply) is replaced.
 */
export function protocolLogger(log: ProtocolLog): NodemailerLogger {
  let inAuth = false;
  const write = (entry: { tnx?: string }, message: string, ...args: unknown[]) => {
    if (entry.tnx === "client") {
      const line = String(message);
      const auth = /^AUTH\s+(\S+)/i.exec(line);
      if (auth) {
        inAuth = true;
        log(">", line.trim().length > auth[0].length ? `AUTH ${auth[1]} ****` : `AUTH ${auth[1]}`);
      } else log(">", inAuth ? "****" : line);
      return;
    }
    if (entry.tnx === "server") {
      const text = String(message);
      for (const line of text.split(/\r?\n/)) if (line) log("<", line);
      if (inAuth && !/^334[ -]/.test(text)) inAuth = false;
      return;
    }
    log("*", format(message, ...args));
  };
  return { trace: write, debug: write, info: write, warn: write, error: write, fatal: write };
}
