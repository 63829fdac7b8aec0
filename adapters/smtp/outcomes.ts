// Per-recipient outcomes of one SMTP transaction, from nodemailer's replies and errors.

import type { RecipientOutcome } from "#core/message.ts";
import { classifyReply, type Failure, networkFailure, parseReply } from "#core/outcome.ts";

/** The fields nodemailer puts on its errors (see nodemailer's NodemailerError). */
export interface SmtpClientError {
  message: string;
  code?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
}

/** What nodemailer leaves on the envelope object it was given (SMTPConnectionEnvelope). */
export interface EnvelopeState {
  accepted?: string[];
  rejectedErrors?: SmtpClientError[];
}

/** OpenSSL and Node codes of a failed handshake or certificate check (the TLS socket reports them as ESOCKET). */
const TLS_ERROR =
  /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|HOSTNAME_MISMATCH)/;

/**
 * The remote reply an error carries, or a synthesized transient one for failures without a reply
 * (the socket error, with its addresses, is the admin's detail, not the sender's).
 */
export function failureReply(err: SmtpClientError): Failure {
  // A refused or failed STARTTLS is reported as TLS failure even when the server replied: "500
  // command not recognized" in LastError would hide that the connector requires TLS.
  const tls = err.code === "ETLS" || TLS_ERROR.test(err.originalCode ?? "");
  if (!tls && err.responseCode && err.response)
    return { reply: parseReply(err.responseCode, err.response) };
  const detail = [err.originalCode, err.message.replace(/^Error initiating TLS - /, "")]
    .filter(Boolean)
    .join(" ");
  if (tls) return networkFailure("tls", detail);
  switch (err.code) {
    case "ETIMEDOUT":
      return networkFailure("timeout", detail);
    case "EDNS":
      return networkFailure("dns", detail);
    case "EPROTOCOL":
      return networkFailure("protocol", detail);
    default:
      return networkFailure("connect", detail);
  }
}

const outcome = (
  recipient: string,
  remoteHost: string,
  { reply, detail }: Failure,
  status = classifyReply(reply),
): RecipientOutcome =>
  status === "delivered" || detail === undefined
    ? ({ recipient, status, remoteHost, reply } as RecipientOutcome)
    : { recipient, status, remoteHost, reply, detail };

/**
 * Before MAIL FROM (connect, greeting, EHLO, STARTTLS, AUTH) a refusal is about the host, not the
 * recipients: every recipient is transient, so the caller fails over to the next host and retries
 * later (RFC 5321 §5.1: try the next MX; a 554 greeting means "no SMTP service here").
 */
export function sessionFailure(
  recipients: string[],
  remoteHost: string,
  err: SmtpClientError,
): RecipientOutcome[] {
  const reply = failureReply(err);
  return recipients.map((r) => outcome(r, remoteHost, reply, "transient"));
}

/**
 * The outcome per recipient once MAIL FROM was sent: a RCPT TO refusal is that recipient's own
 * answer; a MAIL FROM refusal answers for every recipient (with PIPELINING the RCPT replies after
 * it are only "503 need MAIL"); accepted recipients share the reply to the message data, or the
 * error that ended the transaction (transient when it carries no reply).
 */
export function transactionOutcomes(
  recipients: string[],
  remoteHost: string,
  envelope: EnvelopeState,
  result: { ok: true; response: string } | { ok: false; err: SmtpClientError },
): RecipientOutcome[] {
  if (!result.ok && result.err.command === "MAIL FROM") {
    const reply = failureReply(result.err);
    return recipients.map((r) => outcome(r, remoteHost, reply));
  }
  const rejected = new Map<string, SmtpClientError>();
  for (const e of envelope.rejectedErrors ?? [])
    if (e.recipient) rejected.set(e.recipient.toLowerCase(), e);
  const final: Failure = result.ok
    ? { reply: parseReply(Number(/^\d{3}/.exec(result.response)?.[0] ?? 250), result.response) }
    : failureReply(result.err);
  return recipients.map((r) => {
    const refusal = rejected.get(r.toLowerCase());
    if (refusal) return outcome(r, remoteHost, failureReply(refusal));
    return outcome(r, remoteHost, final);
  });
}
