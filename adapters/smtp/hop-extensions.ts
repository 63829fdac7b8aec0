// What one next hop's EHLO allows: SMTPUTF8 (RFC 6531), 8BITMIME (RFC 6152) and DSN (RFC 3461) decide how, or whether, a message goes.
import type { SMTPEnvelopeDsn } from "nodemailer/lib/smtp-connection";
import { downgradeTo7bit } from "#adapters/mime/downgrade.ts";
import type { CourierRequest } from "#core/ports.ts";
import { REMOTE_PERMANENT, type SmtpReply } from "#core/replies.ts";

export type HopPlan =
  | { ok: true; raw: Buffer; use8BitMime: boolean; dsn?: SMTPEnvelopeDsn; dsnPassedOn: boolean }
  | { ok: false; reply: SmtpReply; why: string };

const nonAscii = (s: string) => /[^\p{ASCII}]/u.test(s);

/** The extensions nodemailer's connection read from the EHLO reply (it keeps them unexported). */
export function hopExtensions(conn: object): string[] {
  const ext = (conn as { _supportedExtensions?: unknown })._supportedExtensions;
  return Array.isArray(ext) ? ext.map(String) : [];
}

/**
 * Plans the transaction for a hop offering `extensions`. A message that needs SMTPUTF8 never goes
 * to a hop without it (5.6.7, permanent: RFC 6531 §3.2 forbids downgrading the envelope); 8-bit
 * content to a hop without 8BITMIME is converted to 7-bit first (RFC 6152 §3), or refused 5.6.3;
 * the DSN parameters are passed only where DSN is offered, and then the hop reports (§5.2).
 */
export function planForHop(request: CourierRequest, extensions: string[]): HopPlan {
  const has = (e: string) => extensions.includes(e);
  const raw = Buffer.from(request.raw);
  const utf8 = request.smtpUtf8 || nonAscii(request.mailFrom) || request.recipients.some(nonAscii);
  if (utf8 && !has("SMTPUTF8"))
    return { ok: false, reply: REMOTE_PERMANENT.noSmtpUtf8, why: "no SMTPUTF8" };
  const eightBit = raw.some((b) => b > 0x7f);
  let body: Buffer = raw;
  if (eightBit && !has("8BITMIME")) {
    const converted = downgradeTo7bit(raw);
    if (!converted) return { ok: false, reply: REMOTE_PERMANENT.noConversion, why: "no 8BITMIME" };
    body = converted;
  }
  const plan: HopPlan = {
    ok: true,
    raw: body,
    use8BitMime: body.some((b) => b > 0x7f),
    dsnPassedOn: false,
  };
  const d = request.dsn;
  if (d && has("DSN")) {
    plan.dsnPassedOn = true;
    plan.dsn = {
      ...(d.ret ? { ret: d.ret } : {}),
      ...(d.envid ? { envid: d.envid } : {}),
      ...(d.notify ? { notify: d.notify.length ? d.notify : ["NEVER"] } : {}),
      ...(d.orcpt ? { orcpt: d.orcpt } : {}),
    };
  }
  return plan;
}
