// What travels through the queues: submitted messages and delivery jobs (zod schemas, validated on receive, with their types), and per-recipient outcomes.
import { z } from "zod";
import type { MessageDsn, RecipientDsn } from "./dsn-params.ts";
import type { SmtpReply } from "./replies.ts";

/**
 * The raw message: inline when small — as text when it is plain US-ASCII (most mail: MIME encodes
 * the rest), else base64 — or a key in the message store (claim check). See core/usecases/body.ts.
 */
const InlineBodySchema = z.union([
  z.strictObject({ inline: z.string() }),
  z.strictObject({ text: z.string() }),
]);
export type InlineBody = z.infer<typeof InlineBodySchema>;
export const BodyRefSchema = z.union([
  InlineBodySchema,
  z.strictObject({ storeKey: z.string().min(1) }),
]);
export type BodyRef = z.infer<typeof BodyRefSchema>;

const isoDate = z.string().refine((v) => !Number.isNaN(Date.parse(v)), "not a date");

/** How the message reached the relay: over SMTP, or made by the relay itself (an NDR or DSN). */
const OriginSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("smtp"),
    receiveConnector: z.string(),
    clientIp: z.string(),
    clientHelo: z.string(),
    authUser: z.string().optional(),
    tls: z.boolean(),
  }),
  z.object({ type: z.literal("dsn"), aboutMessageId: z.string() }),
]);
export type Origin = z.infer<typeof OriginSchema>;

/** RFC 3461 parameters as the listener checked them (core/dsn-params.ts). */
const MessageDsnSchema = z.strictObject({
  ret: z.enum(["FULL", "HDRS"]).optional(),
  envid: z.string().max(100).optional(),
}) satisfies z.ZodType<MessageDsn>;
const RcptDsnSchema = z.record(
  z.string(),
  z.strictObject({
    notify: z.array(z.enum(["SUCCESS", "FAILURE", "DELAY"])).optional(),
    orcpt: z.string().max(500).optional(),
  }) satisfies z.ZodType<RecipientDsn>,
);
const extensions = {
  /** RFC 6531: the client used SMTPUTF8 and an address or a header field is UTF-8; next hops must offer it. */
  smtpUtf8: z.boolean().optional(),
  /** RFC 3461 MAIL FROM parameters (RET, ENVID) the client gave. */
  dsn: MessageDsnSchema.optional(),
  /** RFC 3461 RCPT TO parameters (NOTIFY, ORCPT) by lower-cased recipient address. */
  rcptDsn: RcptDsnSchema.optional(),
};

const EnvelopeSchema = z.object({
  /** Reverse path without brackets; "" for the null sender `<>` (bounces). */
  mailFrom: z.string(),
  rcptTo: z.array(z.string().min(3)).min(1),
  ...extensions,
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** The body of one submission-queue message. */
export const SubmittedMessageSchema = z.object({
  /** Relay message id, given to the client in the 250 reply to DATA (REPLIES.queued). */
  id: z.string().min(1),
  receivedAt: isoDate,
  envelope: EnvelopeSchema,
  size: z.number().int().min(0),
  body: BodyRefSchema,
  origin: OriginSchema,
  /** The Message-ID header, when present, for tracking. */
  internetMessageId: z.string().optional(),
  subject: z.string().optional(),
});
export type SubmittedMessage = z.infer<typeof SubmittedMessageSchema>;

/** Where a delivery job goes: the recipient domain's MX hosts, or the connector's smart hosts. */
const NextHopSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("mx"), domain: z.string().min(1) }),
  z.object({ type: z.literal("smarthost"), hosts: z.array(z.string()).min(1) }),
]);
export type NextHop = z.infer<typeof NextHopSchema>;

/** One delivery-queue message: one SMTP transaction's worth of recipients via one connector and next hop. */
export const DeliveryJobSchema = z.object({
  jobId: z.string().min(1),
  messageId: z.string().min(1),
  connector: z.string().min(1),
  nextHop: NextHopSchema,
  /** The queue identity an admin sees (Exchange's NextHopDomain), e.g. "contoso.com" or the smart host list. */
  nextHopKey: z.string(),
  mailFrom: z.string(),
  recipients: z.array(z.string().min(3)).min(1),
  body: BodyRefSchema,
  size: z.number().int().min(0),
  receivedAt: isoDate,
  /** Number of delivery attempts made so far. */
  attempts: z.number().int().min(0),
  /** When this job first entered the delivery queue (expiry counts from receivedAt). */
  firstSeenAt: isoDate,
  /** Do not attempt before this time; SQS delays are at most 15 minutes, so long waits are chained. */
  notBefore: isoDate.optional(),
  delayNotified: z.boolean().optional(),
  /**
   * Set on a job given back by next-hop limits: its rows were written once, which lists them in
   * the queue view (a row created Routed is not listed in DynamoDB until written again).
   */
  listed: z.boolean().optional(),
  internetMessageId: z.string().optional(),
  /** Carried from the envelope (SMTPUTF8 next hops only; RFC 3461 parameters, lower-cased keys). */
  ...extensions,
  /**
   * DKIM-Signature fields made once by route, put in front of the body at every attempt: a retry
   * sends the same signed bytes, and the stored body stays the one the client sent. Header fields
   * only: they go in front of the body as they are.
   */
  dkimSignatures: z
    .string()
    .regex(/^DKIM-Signature:[\s\S]*\r\n$/i)
    .optional(),
});
export type DeliveryJob = z.infer<typeof DeliveryJobSchema>;

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
      /** Not attempted: the recipient is on the suppression list since then (core/suppression). */
      suppressedSince?: string;
    };

export type OutcomeStatus = RecipientOutcome["status"];
