// The SMTP replies this relay gives, each with its enhanced status code (RFC 3463), as data.

export interface SmtpReply {
  code: number;
  /** Enhanced status code, e.g. "5.7.54". */
  enhanced: string;
  text: string;
}

export function formatReply(r: SmtpReply): string {
  return `${r.code} ${r.enhanced} ${r.text}`;
}

const reply = (code: number, enhanced: string, text: string): SmtpReply => ({
  code,
  enhanced,
  text,
});

/** Replies an Exchange admin will recognise (ARCHITECTURE.md, "Defaults"). */
export const REPLIES = {
  relayDenied: reply(550, "5.7.54", "SMTP; Unable to relay recipient in non-accepted domain"),
  notAuthenticated: reply(
    530,
    "5.7.57",
    "SMTP; Client was not authenticated to send anonymous mail during MAIL FROM",
  ),
  startTlsFirst: reply(530, "5.7.0", "Must issue a STARTTLS command first"),
  authRequiresTls: reply(
    538,
    "5.7.11",
    "Encryption required for requested authentication mechanism",
  ),
  authFailed: reply(535, "5.7.3", "Authentication unsuccessful"),
  authNotEnabled: reply(503, "5.5.1", "Authentication not enabled on this connector"),
  sendAsDenied: reply(550, "5.7.1", "Client does not have permissions to send as this sender"),
  messageTooLarge: reply(552, "5.3.4", "Message size exceeds fixed maximum message size"),
  tooManyRecipients: reply(452, "4.5.3", "Too many recipients"),
  tooManyConnectionsFromSource: reply(
    421,
    "4.3.2",
    "The maximum number of concurrent connections from your address has been reached, closing transmission channel",
  ),
  tooManyConnections: reply(
    421,
    "4.3.2",
    "The maximum number of concurrent server connections has exceeded a limit, closing transmission channel",
  ),
  noReceiveConnector: reply(421, "4.3.2", "Service not available, closing transmission channel"),
  tooManyErrors: reply(
    421,
    "4.7.0",
    "Too many errors on this connection, closing transmission channel",
  ),
  /** Exchange's reply to a client over the receive connector's MessageRateLimit. */
  messageRateExceeded: reply(
    421,
    "4.4.2",
    "Message submission rate for this client has exceeded the configured limit",
  ),
  /**
   * Over SmtpUser.recipientRateLimit. 452 at RCPT is RFC 5321 §4.5.3.1.10's answer to too many
   * recipients: the client sends to those accepted and retries the rest later, which is what a
   * rate limit wants; 4.5.3 is RFC 3463's "too many recipients".
   */
  recipientRateExceeded: reply(
    452,
    "4.5.3",
    "Recipient submission rate for this user has exceeded the configured limit",
  ),
  /**
   * RFC 4954 §6's temporary AUTH failure, for every AUTH from a locked-out address or for a locked
   * name. The text does not say "locked": a guesser learns nothing about which it hit.
   */
  authLockedOut: reply(454, "4.7.0", "Temporary authentication failure"),
  shuttingDown: reply(421, "4.3.2", "Service shutting down, closing transmission channel"),
  bareLineEnding: reply(
    554,
    "5.6.0",
    "Bare LF or CR in message data is not allowed; use CRLF line endings",
  ),
  hopCountExceeded: reply(554, "5.4.6", "Hop count exceeded - possible mail loop"),
  badSenderSyntax: reply(501, "5.1.7", "Invalid address"),
  badRecipientSyntax: reply(501, "5.1.3", "Invalid address"),
  queueFailed: reply(451, "4.3.0", "Could not queue the message; try again later"),
  /** RFC 6531 §3.5: a non-ASCII address in a transaction that did not announce SMTPUTF8. */
  smtpUtf8Required: reply(553, "5.6.7", "Non-ASCII address requires the SMTPUTF8 parameter"),
  /** RFC 3461 §4 parameters that do not parse (RFC 3463 X.5.4: invalid command arguments). */
  badDsnParameter: reply(501, "5.5.4", "Invalid DSN parameter"),
  queued: (id: string) => reply(250, "2.6.0", `<${id}> Queued mail for delivery`),
} as const;

/** An error that carries the SMTP reply to send, in the shape smtp-server expects (`responseCode`). */
export class SmtpReplyError extends Error {
  override readonly name = "SmtpReplyError";
  readonly responseCode: number;
  readonly reply: SmtpReply;
  constructor(r: SmtpReply) {
    super(`${r.enhanced} ${r.text}`);
    this.reply = r;
    this.responseCode = r.code;
  }
}
