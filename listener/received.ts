// The Received trace field this relay adds to every message it accepts (RFC 5321 §4.4, RFC 3848 protocol names).
import { rfc5322Date } from "#core/mime.ts";

export interface ReceivedFacts {
  /** What the client said in HELO/EHLO. */
  helo: string;
  clientIp: string;
  /** The name the listener announces (connector fqdn or host name). */
  byHost: string;
  /** The receive connector that took the message, named as Exchange's Received fields name theirs. */
  receiveConnector?: string;
  /** smtp-server's transmission type: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA (RFC 3848). */
  protocol: string;
  id: string;
  /** TLS protocol and cipher when the session was encrypted. */
  tls?: { version: string; cipher: string };
  at: Date;
}

/** Keeps a client-chosen value from closing a comment or starting a new line in the field. */
function token(value: string): string {
  const t = value.replace(/[^\x21-\x7e]|[()\\;]/g, "?");
  return t.length > 0 ? t.slice(0, 255) : "unknown";
}

/** A connector name inside the comment: printable ASCII without the characters that end it (RFC 5322 §3.2.2 ctext). */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]|[()\\"]/g, "?").slice(0, 64)}"`;
}

/** The header as CRLF-terminated text, folded so no line passes 78 characters in the common case. */
export function receivedHeader(f: ReceivedFacts): string {
  const ip = f.clientIp.includes(":") ? `IPv6:${f.clientIp}` : f.clientIp;
  const lines = [
    `Received: from ${token(f.helo)} ([${ip}])`,
    `\tby ${token(f.byHost)} (connector-relay${f.receiveConnector !== undefined ? `; connector=${quoted(f.receiveConnector)}` : ""}) with ${token(f.protocol)} id ${token(f.id)}`,
  ];
  if (f.tls) lines.push(`\t(version=${token(f.tls.version)} cipher=${token(f.tls.cipher)})`);
  lines[lines.length - 1] += ";";
  lines.push(`\t${rfc5322Date(f.at)}`);
  return `${lines.join("\r\n")}\r\n`;
}
