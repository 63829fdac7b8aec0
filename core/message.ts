// What travels through the queues: submitted messages, delivery jobs and per-recipient outcomes.
import type { MessageDsn, RecipientDsn } from "./dsn-params.ts";
import type { SmtpReply } from "./replies.ts";

/**
 * The raw message: inline when small — as text when it is plain US-ASCII (most mail: MIME encodes
 * the rest), else base64 — or a key in the message store (claim check). See core/usecases/body.ts.
 */
export type BodyRef = InlineBody | { storeKey: string };
export type InlineBody = { inline: string } | { text: string };

export interface Envelope {
  /** Reverse path without brackets; "" for the null sender `<>` (bounces). */
  mailFrom: string;
  rcptTo: string[];
  /** RFC 6531: the client used SMTPUTF8 and an address or a header field is UTF-8; next hops must offer it. */
  smtpUtf8?: boolean;
  /** RFC 3461 MAIL FROM parameters (RET, ENVID) the client gave. */
  dsn?: MessageDsn;
  /** RFC 3461 RCPT TO parameters (NOTIFY, ORCPT) by lower-cased recipient address. */
  rcptDsn?: Record<string, RecipientDsn>;
}

/** How the message reached the relay: over SMTP, or made by the relay itself (an NDR or DSN). */
export type Origin =
  | {
      type: "smtp";
      receiveConnector: string;
      clientIp: string;
      clientHelo: string;
      authUser?: string;
      tls: boolean;
    }
  | { type: "dsn"; aboutMessageId: string };

/** The body of one submission-queue message. */
export interface SubmittedMessage {
  /** Relay message id, given to the client in "250 2.6.0 <id> Queued mail for delivery". */
  id: string;
  receivedAt: string;
  envelope: Envelope;
  size: number;
  body: BodyRef;
  origin: Origin;
  /** The Message-ID header, when present, for tracking. */
  internetMessageId?: string;
  subject?: string;
}

/** Where a delivery job goes: the recipient domain's MX hosts, or the connector's smart hosts. */
export type NextHop = { type: "mx"; domain: string } | { type: "smarthost"; hosts: string[] };

/** One delivery-queue message: one SMTP transaction's worth of recipients via one connector and next hop. */
export interface DeliveryJob {
  jobId: string;
  messageId: string;
  connector: string;
  nextHop: NextHop;
  /** The queue identity an admin sees (Exchange's NextHopDomain), e.g. "contoso.com" or the smart host list. */
  nextHopKey: string;
  mailFrom: string;
  recipients: string[];
  body: BodyRef;
  size: number;
  receivedAt: string;
  /** Number of delivery attempts made so far. */
  attempts: number;
  /** When this job first entered the delivery queue (expiry counts from receivedAt). */
  firstSeenAt: string;
  /** Do not attempt before this time; SQS delays are at most 15 minutes, so long waits are chained. */
  notBefore?: string;
  delayNotified?: boolean;
  internetMessageId?: string;
  /** Carried from the envelope: the job may go only to next hops that offer SMTPUTF8. */
  smtpUtf8?: boolean;
  dsn?: MessageDsn;
  /** The DSN parameters of this job's recipients (lower-cased keys). */
  rcptDsn?: Record<string, RecipientDsn>;
  /**
   * DKIM-Signature fields made once by route, put in front of the body at every attempt: a retry
   * sends the same signed bytes, and the stored body stays the one the client sent.
   */
  dkimSignatures?: string;
}

/**
 * The result for one recipient of one delivery attempt. `reply` may reach the sender (in a DSN);
 * `detail` is for the admin only (LastError, tracking, logs): causes, addresses, secret names.
 * `tlsPolicy` says which outbound TLS policy applied and why (MX delivery; see core/tls-policy).
 */
export type RecipientOutcome =
  | {
      recipient: string;
      status: "delivered";
      remoteHost: string;
      reply: SmtpReply;
      /** The next hop offered DSN and took the RFC 3461 parameters: it reports from here on (§5.2). */
      dsnPassedOn?: boolean;
      tlsPolicy?: string;
    }
  | {
      recipient: string;
      status: "transient";
      remoteHost?: string;
      reply: SmtpReply;
      detail?: string;
      tlsPolicy?: string;
    }
  | {
      recipient: string;
      status: "permanent";
      remoteHost?: string;
      reply: SmtpReply;
      detail?: string;
      tlsPolicy?: string;
    };

export type OutcomeStatus = RecipientOutcome["status"];
