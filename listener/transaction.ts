// One accepted SMTP transaction as a submission: Received field on top, canonical envelope, origin.
import { parseMailbox } from "#core/address.ts";
import type { Origin } from "#core/message.ts";
import type { MessageFacts } from "./data.ts";
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
  facts: MessageFacts;
  /** The name this relay announces (connector fqdn or host name). */
  byHost: string;
  helo: string;
  /** smtp-server's transmission type (ESMTP, ESMTPSA, …). */
  protocol: string;
  tls?: { version: string; cipher: string };
  origin: Extract<Origin, { type: "smtp" }>;
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

export function buildSubmission(t: TransactionFacts): Submission {
  const received = receivedHeader({
    helo: t.helo || "unknown",
    clientIp: t.origin.clientIp,
    byHost: t.byHost,
    protocol: t.protocol,
    id: t.id,
    ...(t.tls ? { tls: t.tls } : {}),
    at: t.receivedAt,
  });
  return {
    id: t.id,
    receivedAt: t.receivedAt,
    envelope: { mailFrom: canonical(t.mailFrom), rcptTo: t.rcptTo.map(canonical) },
    body: Buffer.concat([Buffer.from(received, "latin1"), t.body]),
    origin: t.origin,
    ...(t.facts.messageId !== undefined ? { internetMessageId: t.facts.messageId } : {}),
    ...(t.facts.subject !== undefined ? { subject: t.facts.subject } : {}),
  };
}
