// Validating queue message bodies (submitted messages, delivery jobs) before a use case trusts them.
import { z } from "zod";
import type { DeliveryJob, SubmittedMessage } from "../message.ts";

const BodyRefSchema = z.union([
  z.strictObject({ inline: z.string() }),
  z.strictObject({ text: z.string() }),
  z.strictObject({ storeKey: z.string().min(1) }),
]);

const isoDate = z.string().refine((v) => !Number.isNaN(Date.parse(v)), "not a date");

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

/** RFC 3461 parameters as the listener checked them (core/dsn-params.ts). */
const MessageDsnSchema = z.strictObject({
  ret: z.enum(["FULL", "HDRS"]).optional(),
  envid: z.string().max(100).optional(),
});
const RcptDsnSchema = z.record(
  z.string(),
  z.strictObject({
    notify: z.array(z.enum(["SUCCESS", "FAILURE", "DELAY"])).optional(),
    orcpt: z.string().max(500).optional(),
  }),
);
const extensions = {
  smtpUtf8: z.boolean().optional(),
  dsn: MessageDsnSchema.optional(),
  rcptDsn: RcptDsnSchema.optional(),
};

export const SubmittedMessageSchema = z.object({
  id: z.string().min(1),
  receivedAt: isoDate,
  envelope: z.object({
    mailFrom: z.string(),
    rcptTo: z.array(z.string().min(3)).min(1),
    ...extensions,
  }),
  size: z.number().int().min(0),
  body: BodyRefSchema,
  origin: OriginSchema,
  internetMessageId: z.string().optional(),
  subject: z.string().optional(),
});

const NextHopSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("mx"), domain: z.string().min(1) }),
  z.object({ type: z.literal("smarthost"), hosts: z.array(z.string()).min(1) }),
]);

export const DeliveryJobSchema = z.object({
  jobId: z.string().min(1),
  messageId: z.string().min(1),
  connector: z.string().min(1),
  nextHop: NextHopSchema,
  nextHopKey: z.string(),
  mailFrom: z.string(),
  recipients: z.array(z.string().min(3)).min(1),
  body: BodyRefSchema,
  size: z.number().int().min(0),
  receivedAt: isoDate,
  attempts: z.number().int().min(0),
  firstSeenAt: isoDate,
  notBefore: isoDate.optional(),
  delayNotified: z.boolean().optional(),
  internetMessageId: z.string().optional(),
  ...extensions,
  /** Header fields only: they go in front of the body as they are. */
  dkimSignatures: z
    .string()
    .regex(/^DKIM-Signature:[\s\S]*\r\n$/i)
    .optional(),
});

export type Parsed<T> =
  | { ok: true; value: T }
  | { ok: false; reason: string; messageId?: string; recipients: string[]; sender?: string };

/** What can still be said about a body that failed validation, for the poison report. */
function salvage(raw: unknown): { messageId?: string; recipients: string[]; sender?: string } {
  const o = (raw ?? {}) as Record<string, unknown>;
  const env = (o.envelope ?? {}) as Record<string, unknown>;
  const messageId =
    typeof o.messageId === "string" ? o.messageId : typeof o.id === "string" ? o.id : undefined;
  const list = Array.isArray(o.recipients)
    ? o.recipients
    : Array.isArray(env.rcptTo)
      ? env.rcptTo
      : [];
  const sender =
    typeof o.mailFrom === "string"
      ? o.mailFrom
      : typeof env.mailFrom === "string"
        ? env.mailFrom
        : undefined;
  return {
    ...(messageId ? { messageId } : {}),
    recipients: list.filter((r): r is string => typeof r === "string"),
    ...(sender !== undefined ? { sender } : {}),
  };
}

function parseWith<T>(schema: z.ZodType, text: string): Parsed<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}`, recipients: [] };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data as T };
  const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  return { ok: false, reason: `invalid: ${issues.join("; ")}`, ...salvage(raw) };
}

export const parseSubmittedMessage = (text: string): Parsed<SubmittedMessage> =>
  parseWith<SubmittedMessage>(SubmittedMessageSchema, text);

export const parseDeliveryJob = (text: string): Parsed<DeliveryJob> =>
  parseWith<DeliveryJob>(DeliveryJobSchema, text);
