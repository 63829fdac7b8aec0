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

/**
 * What the listener answers SMTP clients, in Exchange's words where Exchange has them, so an admin
 * recognises each one. docs/replies.md says when each is sent and which record decides it.
 */
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
  /** Exchange's ConnectionTimeout: a session may not last forever, however busy it is. */
  connectionTimedOut: reply(421, "4.4.2", "Connection timed out"),
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

/**
 * Replies the relay records for a recipient on its own behalf when delivery produced no remote
 * reply: LastError shows them, and an NDR or delay DSN quotes them as its Diagnostic-Code. All are
 * transient (451) and classify so; the admin detail (host, cause) goes beside them, not in them.
 */
export const REMOTE_TRANSIENT = {
  // RFC 3463 X.4.1 No answer from host: "the outbound connection attempt was not answered".
  connect: reply(451, "4.4.1", "Unable to connect"),
  // X.4.2 Bad connection: established, but the transaction could not complete (e.g. time-out).
  timeout: reply(451, "4.4.2", "Connection timed out"),
  // X.7.5 Cryptographic failure, as Postfix reports TLS handshake and certificate failures.
  tls: reply(451, "4.7.5", "TLS negotiation failed"),
  // X.4.3 Directory server failure: DNS could not answer now (SERVFAIL, timeout, refused).
  dns: reply(451, "4.4.3", "DNS lookup failed"),
  // X.5.0 Other or undefined protocol status: a reply we could not understand.
  protocol: reply(451, "4.5.0", "SMTP protocol error"),
  /**
   * The smart host's credentials could not be read: our configuration, not the message, so mail
   * waits until the secret is fixed. RFC 4954's 4.7.0 wording; the secret's name is for the admin.
   */
  smartHostCredentials: reply(451, "4.7.0", "Temporary authentication failure"),
  /** No MX host passes the domain's MTA-STS or DANE policy (RFC 8461 §5, RFC 7672 §2.2); the notes say why. */
  tlsPolicy: (notes: string) => reply(451, "4.7.5", notes),
} as const;

/**
 * Replies the relay itself gives as the final word for a recipient; all classify as permanent
 * (basic code 5xx) and end in an NDR.
 */
export const REMOTE_PERMANENT = {
  /** RFC 7505: a domain with a null MX ("MX 0 .") accepts no mail; 556 with 5.1.10. */
  nullMx: (domain: string): SmtpReply =>
    reply(556, "5.1.10", `Recipient address rejected: ${domain} does not accept email (null MX)`),
  /** The recipient domain does not exist (NXDOMAIN); Exchange's SMTPSEND.DNS.NonExistentDomain. */
  nxDomain: (domain: string): SmtpReply =>
    reply(550, "5.4.4", `SMTPSEND.DNS.NonExistentDomain; nonexistent domain ${domain}`),
  /** The domain exists but has neither MX nor address records (RFC 5321 §5.1: no implicit MX either). */
  noMailHost: (domain: string): SmtpReply =>
    reply(550, "5.4.4", `Unable to route: ${domain} has no MX or address records`),
  /** No send connector can take the message (the routing reason goes in the text). */
  unroutable: (reason: string): SmtpReply => reply(550, "5.4.4", `Unable to route: ${reason}`),
  /**
   * Expiry, as Exchange words it. The 4.4.7 class is deliberate: RFC 3463 X.4.7 "delivery time
   * expired" is a persistent transient failure, and the DSN then reports Action: failed with
   * Status: 4.4.7 (RFC 3464 §2.3.4 allows a 4.x.x status on a failed recipient).
   */
  expired: reply(550, "4.4.7", "QUEUE.Expired; message expired"),
  /** Too many Received headers: a mail loop (RFC 5321 §6.3). */
  hopCount: REPLIES.hopCountExceeded,
  /** Exchange's NDR for Remove-Message -WithNDR, with a failure (5.x.x) status as RFC 3464 needs. */
  removedByAdmin: reply(550, "5.3.2", "QUEUE.Admin; message deleted by administrative action"),
  /** RFC 6531 §3.5 and Postfix's wording: the next hop cannot take a UTF-8 envelope. */
  noSmtpUtf8: reply(550, "5.6.7", "SMTPUTF8 is required, but was not offered by the host"),
  /** RFC 3463 X.6.3: conversion required but not supported. */
  noConversion: reply(
    554,
    "5.6.3",
    "8-bit content could not be converted for a host without 8BITMIME",
  ),
  /** A recipient on the suppression list after a hard bounce: its original code, and the reply. */
  suppressedAfterBounce: (enhanced: string, since: string, remoteReply: string): SmtpReply =>
    reply(
      550,
      enhanced,
      `Recipient address suppressed since ${since} after a hard bounce; the remote server said: ${remoteReply}`,
    ),
  /** Suppressed by the admin: the admin's reason stays in LastError, never in the NDR. */
  suppressedByAdmin: (since: string): SmtpReply =>
    reply(550, "5.7.1", `Recipient address suppressed by the administrator since ${since}`),
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
