// The SMTPUTF8 (RFC 6531) and DSN (RFC 3461) parameters of MAIL FROM and RCPT TO: checks and what the envelope keeps.
import {
  type MessageDsn,
  type NotifyKind,
  parseEnvid,
  parseNotify,
  parseOrcpt,
  parseRet,
  type RecipientDsn,
} from "../dsn-params.ts";
import { REPLIES, type SmtpReply } from "../replies.ts";

export type ParamCheck<T> =
  | { ok: true; value: T }
  | { ok: false; reply: SmtpReply; reason: string };

const nonAscii = (s: string) => /[^\p{ASCII}]/u.test(s);

/**
 * RFC 6531 §3.5: a UTF-8 address is allowed only in a transaction whose MAIL FROM carried
 * SMTPUTF8; otherwise 553 5.6.7, before any other policy looks at it.
 */
export function checkUtf8Address(address: string, smtpUtf8: boolean): SmtpReply | undefined {
  return nonAscii(address) && !smtpUtf8 ? REPLIES.smtpUtf8Required : undefined;
}

/**
 * MAIL FROM's RET and ENVID, as smtp-server hands them (xtext already decoded). A parameter that
 * does not parse is 501 5.5.4: accepting it would put unchecked text into the DSNs we build.
 */
export function mailDsnParams(args: { RET?: unknown; ENVID?: unknown }): ParamCheck<MessageDsn> {
  const value: MessageDsn = {};
  for (const [name, raw] of Object.entries({ RET: args.RET, ENVID: args.ENVID })) {
    if (raw === undefined) continue;
    const text = typeof raw === "string" ? raw : "";
    const parsed = name === "RET" ? parseRet(text) : parseEnvid(text);
    if (!parsed.ok) return { ok: false, reply: REPLIES.badDsnParameter, reason: parsed.reason };
    if (name === "RET") value.ret = parsed.value as MessageDsn["ret"];
    else value.envid = parsed.value;
  }
  return { ok: true, value };
}

/** RCPT TO's NOTIFY and ORCPT (decoded); NEVER with anything else is 501 5.5.4 (RFC 3461 §4.1). */
export function rcptDsnParams(args: {
  NOTIFY?: unknown;
  ORCPT?: unknown;
}): ParamCheck<RecipientDsn> {
  const value: RecipientDsn = {};
  const bad = (reason: string) => ({ ok: false as const, reply: REPLIES.badDsnParameter, reason });
  if (args.NOTIFY !== undefined) {
    const n = parseNotify(typeof args.NOTIFY === "string" ? args.NOTIFY : "");
    if (!n.ok) return bad(n.reason);
    value.notify = n.value as NotifyKind[];
  }
  if (args.ORCPT !== undefined) {
    const o = parseOrcpt(typeof args.ORCPT === "string" ? args.ORCPT : "");
    if (!o.ok) return bad(o.reason);
    value.orcpt = o.value;
  }
  return { ok: true, value };
}

/**
 * Whether the message needs SMTPUTF8 from every next hop: the client announced it and an
 * address or the header section is UTF-8 (RFC 6531 §3.2). Announced but unused, the message is
 * plain ASCII mail and goes anywhere.
 */
export function needsSmtpUtf8(
  announced: boolean,
  addresses: string[],
  header: Uint8Array,
): boolean {
  if (!announced) return false;
  return addresses.some(nonAscii) || header.some((b) => b > 0x7f);
}
