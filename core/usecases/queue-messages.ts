// Validating queue message bodies (submitted messages, delivery jobs) before a use case trusts them.
import type { z } from "zod";
import {
  type DeliveryJob,
  DeliveryJobSchema,
  type SubmittedMessage,
  SubmittedMessageSchema,
} from "../message.ts";

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

function parseWith<T>(schema: z.ZodType<T>, text: string): Parsed<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}`, recipients: [] };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  return { ok: false, reason: `invalid: ${issues.join("; ")}`, ...salvage(raw) };
}

export const parseSubmittedMessage = (text: string): Parsed<SubmittedMessage> =>
  parseWith(SubmittedMessageSchema, text);

export const parseDeliveryJob = (text: string): Parsed<DeliveryJob> =>
  parseWith(DeliveryJobSchema, text);
