// SMTPUTF8 and DSN on the wire: refuses bad parameters at MAIL/RCPT, and turns what was accepted into envelope fields.
import type { SMTPServerAddress, SMTPServerSession } from "smtp-server";
import type { MessageDsn, RecipientDsn } from "#core/dsn-params.ts";
import {
  checkUtf8Address,
  mailDsnParams,
  needsSmtpUtf8,
  rcptDsnParams,
} from "#core/receive/extensions.ts";
import type { SmtpReply } from "#core/replies.ts";

export type ExtensionRefusal = { reply: SmtpReply; reason: string };

const argsOf = (a: SMTPServerAddress) => (a.args || {}) as Record<string, unknown>;

/** MAIL FROM: a UTF-8 sender needs SMTPUTF8 (553 5.6.7); RET and ENVID must parse (501 5.5.4). */
export function mailFromRefusal(
  address: SMTPServerAddress,
  session: SMTPServerSession,
): ExtensionRefusal | undefined {
  const utf8 = checkUtf8Address(address.address, session.envelope.smtpUtf8 === true);
  if (utf8) return { reply: utf8, reason: "UTF-8 sender without SMTPUTF8" };
  const dsn = mailDsnParams(argsOf(address));
  return dsn.ok ? undefined : { reply: dsn.reply, reason: `MAIL FROM: ${dsn.reason}` };
}

/** RCPT TO: a UTF-8 recipient needs SMTPUTF8 on MAIL FROM; NOTIFY and ORCPT must parse. */
export function rcptToRefusal(
  address: SMTPServerAddress,
  session: SMTPServerSession,
): ExtensionRefusal | undefined {
  const utf8 = checkUtf8Address(address.address, session.envelope.smtpUtf8 === true);
  if (utf8) return { reply: utf8, reason: "UTF-8 recipient without SMTPUTF8" };
  const dsn = rcptDsnParams(argsOf(address));
  return dsn.ok ? undefined : { reply: dsn.reply, reason: `RCPT TO: ${dsn.reason}` };
}

export interface EnvelopeExtensions {
  smtpUtf8: boolean;
  dsn?: MessageDsn;
  /** Aligned with session.envelope.rcptTo. */
  rcptDsn: (RecipientDsn | undefined)[];
}

/** What the transaction asked for, read once DATA is in (the header decides whether UTF-8 is used). */
export function envelopeExtensions(
  session: SMTPServerSession,
  header: Uint8Array,
): EnvelopeExtensions {
  const env = session.envelope;
  const addresses = [env.mailFrom ? env.mailFrom.address : "", ...env.rcptTo.map((r) => r.address)];
  const mail = env.mailFrom ? mailDsnParams(argsOf(env.mailFrom)) : undefined;
  const dsn = mail?.ok && Object.keys(mail.value).length ? mail.value : undefined;
  return {
    smtpUtf8: needsSmtpUtf8(env.smtpUtf8 === true, addresses, header),
    ...(dsn ? { dsn } : {}),
    rcptDsn: env.rcptTo.map((r) => {
      const p = rcptDsnParams(argsOf(r));
      return p.ok && Object.keys(p.value).length ? p.value : undefined;
    }),
  };
}
