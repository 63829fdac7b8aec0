// One accepted SMTP transaction as a submission: Received field on top, canonical envelope, origin.
import { parseMailbox } from "#core/address.ts";
import type { Envelope, Origin } from "#core/message.ts";
import type { MessageFacts } from "./data.ts";
import type { EnvelopeExtensions } from "./extensions.ts";
import { receivedHeader } from "./received.ts";
import type { Submission } from "./submit.ts";

export interface TransactionFacts {
  id: string;
  receivedAt: Date;
  /** As smtp-server parsed them; "" for the null sender. */
  mailFrom: string;
  rcptTo: string[];
  /** The message as received, after dot-unstuffing. */
  body: Buffer;
  /** Puts the Received field on top of `body` without copying it (listener/data.ts); else a copy is made. */
  prepend?: (field: string) => Buffer;
  facts: MessageFacts;
  /** The name this relay announces (connector fqdn or host name). */
  byHost: string;
  helo: string;
  /** smtp-server's transmission type (ESMTP, ESMTPSA, …). */
  protocol: string;
  tls?: { version: string; cipher: string };
  origin: Extract<Origin, { type: "smtp" }>;
  /** SMTPUTF8 and DSN parameters of the transaction; rcptDsn aligned with rcptTo. */
  extensions?: EnvelopeExtensions;
}

/**
 * smtp-server hands over internationalised domains decoded to Unicode; routing keys on the ASCII
 * form core's parser gives (and policy has already accepted every address that reaches here).
 */
function canonical(address: string): string {
  if (address === "") return "";
  const p = parseMailbox(address);
  return p.ok ? p.mailbox.address : address;
}

/** The queued envelope: canonical addresses, and the extension parameters keyed by recipient. */
function envelopeOf(t: TransactionFacts): Envelope {
  const rcptTo = t.rcptTo.map(canonical);
  const envelope: Envelope = { mailFrom: canonical(t.mailFrom), rcptTo };
  const ext = t.extensions;
  if (!ext) return envelope;
  if (ext.smtpUtf8) envelope.smtpUtf8 = true;
  if (ext.dsn) envelope.dsn = ext.dsn;
  const entries = rcptTo.flatMap((r, i) => {
    const d = ext.rcptDsn[i];
    return d ? [[r.toLowerCase(), d] as const] : [];
  });
  if (entries.length) envelope.rcptDsn = Object.fromEntries(entries);
  return envelope;
}

export function buildSubmission(t: TransactionFacts): Submission {
  const received = receivedHeader({
    helo: t.helo || "unknown",
    clientIp: t.origin.clientIp,
    byHost: t.byHost,
    receiveConnector: t.origin.receiveConnector,
    protocol: t.protocol,
    id: t.id,
    ...(t.tls ? { tls: t.tls } : {}),
    at: t.receivedAt,
  });
  return {
    id: t.id,
    receivedAt: t.receivedAt,
    envelope: envelopeOf(t),
    body: t.prepend
      ? t.prepend(received)
      : Buffer.concat([Buffer.from(received, "latin1"), t.body]),
    origin: t.origin,
    ...(t.facts.messageId !== undefined ? { internetMessageId: t.facts.messageId } : {}),
    ...(t.facts.subject !== undefined ? { subject: t.facts.subject } : {}),
  };
}
