// Delivery status notifications (RFC 3464): the NDR and the delay notice, built as raw RFC 5322 bytes.
import type { Origin } from "./message.ts";
import {
  CRLF,
  decodeEncodedWords,
  encodeWords,
  field,
  hardWrap,
  headerValue,
  isPrintableAscii,
  normalizeLines,
  quotedPrintable,
  rfc5322Date,
  utf8,
} from "./mime.ts";
import { formatReply, type SmtpReply } from "./replies.ts";

export interface DsnRecipient {
  recipient: string;
  /** RFC 3464 §2.3.3; "relayed": handed to a next hop that does not offer DSN (RFC 3461 §5.2.2). */
  action: "failed" | "delayed" | "relayed";
  /** The client's ORCPT, "type;address" (RFC 3461 §4.2), reported as Original-Recipient. */
  originalRecipient?: string;
  /** Enhanced status code, e.g. "5.1.1"; "4.4.7" for an expired message. */
  status: string;
  /** Host that gave the diagnostic reply, e.g. "mx1.fabrikam.com". */
  remoteMta?: string;
  diagnostic?: SmtpReply;
  lastAttemptAt?: Date;
  /** For a delay: when the relay gives up (the expiry instant). */
  willRetryUntil?: Date;
}

export type DsnKind = "failure" | "delay" | "success";

export interface DsnInput {
  kind: DsnKind;
  /** The client's ENVID (RFC 3461 §4.4), reported as Original-Envelope-Id. */
  envelopeId?: string;
  /** The whole original message, for RET=FULL (RFC 3461 §4.3); otherwise only its headers go back. */
  fullOriginal?: Uint8Array;
  /** This relay's host name, for Reporting-MTA and the Message-ID. */
  reportingMta: string;
  /** From address of the report; the envelope sender is always <>. */
  postmaster: string;
  originalSender: string;
  /** The relay's id of the original message. */
  originalMessageId?: string;
  arrivalDate: Date;
  now: Date;
  recipients: DsnRecipient[];
  /** The original message's header block, CRLF line ends. */
  originalHeaders: string;
  boundary?: string;
}

/** A DSN was asked for where none may be sent (to the null sender) or with nothing to report. */
export class DsnNotAllowedError extends Error {
  override readonly name = "DsnNotAllowedError";
}

/**
 * Whether a report may go to this sender. Never to the null sender (RFC 5321 §4.5.5: "notification
 * messages … MUST NOT" be sent about a message with a null reverse-path, which is what stops NDR
 * loops), and never about a report the relay made itself, whatever its envelope says.
 */
export function shouldSendDsn(originalSender: string, origin: Origin): boolean {
  const s = originalSender.trim();
  return s !== "" && s !== "<>" && origin.type !== "dsn";
}

/** An address for Final-Recipient: "rfc822; a@b", or RFC 6533's "utf-8;" type with \x{HEX} escapes. */
function addressType(address: string): string {
  if (isPrintableAscii(address)) return `rfc822; ${address}`;
  const escaped = [...address]
    .map((ch) =>
      isPrintableAscii(ch) ? ch : `\\x{${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase()}}`,
    )
    .join("");
  return `utf-8; ${escaped}`;
}

/** RFC 3464 §2.3.1: "rfc822; a@b"; a UTF-8 address in RFC 6533's escaped form. */
function originalRecipient(orcpt: string): string {
  const semi = orcpt.indexOf(";");
  const type = orcpt.slice(0, semi);
  const address = orcpt.slice(semi + 1);
  if (isPrintableAscii(address)) return `${type}; ${address}`;
  return addressType(address);
}

/** RFC 3464 §2.3.6: diagnostic text is US-ASCII. */
const asciiOnly = (s: string) => s.replace(/[^\x20-\x7e]/g, "?");

// ---- What the sender reads (Exchange NDR style) ------------------------------------------------

/** Advice by status code, most specific first; "5.7" covers 5.7.x, "5" any other 5.x.x. */
const ADVICE: readonly (readonly [string, string])[] = [
  [
    "5.1.10",
    "The recipient's domain doesn't accept email (it publishes a null MX). Check the part of the address after the @.",
  ],
  [
    "5.1.1",
    "The email address couldn't be found at the recipient's domain. Check the address for typing errors and send the message again.",
  ],
  [
    "5.1.2",
    "The recipient's domain couldn't be found. Check the part of the address after the @ for typing errors.",
  ],
  [
    "5.4.4",
    "The recipient's domain couldn't be found or has no mail server. Check the part of the address after the @ for typing errors.",
  ],
  [
    "5.4.6",
    "The message was caught in a mail loop. Forward this report to your email administrator.",
  ],
  [
    "5.2.1",
    "The recipient's mailbox is disabled or isn't accepting messages. Contact the recipient another way.",
  ],
  [
    "5.2.2",
    "The recipient's mailbox is full. Try again later, or contact the recipient another way.",
  ],
  ["5.3.4", "The message is too large. Send it again with smaller or fewer attachments."],
  ["5.2.3", "The message is too large. Send it again with smaller or fewer attachments."],
  [
    "5.7",
    "The recipient's server refused the message for policy or security reasons (for example your domain's SPF, DKIM or DMARC records, or a block list). Forward this report to your email administrator.",
  ],
  [
    "4.4.7",
    "The message couldn't be delivered before it expired: the recipient's server kept deferring it or couldn't be reached. The last error is shown below. Try again later, or forward this report to your email administrator.",
  ],
  [
    "5",
    "The recipient's server rejected the message. Forward this report to your email administrator.",
  ],
  ["4", "The message couldn't be delivered. Forward this report to your email administrator."],
];

function advice(status: string): string {
  const hit = ADVICE.find(([k]) => status === k || status.startsWith(`${k}.`));
  return hit ? hit[1] : (ADVICE.at(-1)?.[1] ?? "");
}

function humanText(input: DsnInput, subject: string | undefined): string {
  const failed = input.recipients.filter((r) => r.action === "failed");
  const delayed = input.recipients.filter((r) => r.action === "delayed");
  const relayed = input.recipients.filter((r) => r.action === "relayed");
  const lines: string[] = [];
  if (relayed.length) {
    // Exchange's wording for a relay DSN.
    lines.push(
      "Delivery to these recipients or groups is complete, but no delivery notification was sent by the destination server:",
      "",
      ...relayed.map((r) => r.recipient),
      "",
    );
  }
  if (failed.length) {
    lines.push("Delivery has failed to these recipients or groups:", "");
    for (const r of failed) lines.push(r.recipient, advice(r.status), "");
  }
  if (delayed.length) {
    lines.push("Delivery is delayed to these recipients or groups:", "");
    for (const r of delayed) lines.push(r.recipient);
    const until = delayed.find((r) => r.willRetryUntil)?.willRetryUntil;
    lines.push(
      "",
      "This message hasn't been delivered yet. You don't need to send it again: the server keeps trying",
      until
        ? `until ${rfc5322Date(until)}, and will tell you if it can't deliver it by then.`
        : "and will tell you if it can't deliver it.",
      "",
    );
  }
  lines.push(
    `Your message${subject ? ` "${subject}"` : ""} was received ${rfc5322Date(input.arrivalDate)}.`,
    "",
    "Diagnostic information for administrators:",
    "",
    `Generating server: ${input.reportingMta}`,
    "",
  );
  for (const r of input.recipients) {
    lines.push(r.recipient);
    if (r.remoteMta) lines.push(`Remote server: ${r.remoteMta}`);
    if (r.diagnostic) lines.push(`Remote server returned '${formatReply(r.diagnostic)}'`);
    else lines.push(`Status: ${r.status}`);
    if (r.lastAttemptAt) lines.push(`Last attempt: ${rfc5322Date(r.lastAttemptAt)}`);
    lines.push("");
  }
  lines.push(
    input.fullOriginal
      ? "The original message is attached."
      : "The original message headers are attached.",
  );
  return lines.join(CRLF);
}

// ---- The report ---------------------------------------------------------------------------------

function deliveryStatus(input: DsnInput): string {
  const perMessage = [
    // RFC 3464 §2.2.1: Original-Envelope-Id comes first, as given (it is already US-ASCII).
    ...(input.envelopeId ? [field("Original-Envelope-Id", input.envelopeId)] : []),
    field("Reporting-MTA", `dns; ${input.reportingMta}`),
    ...(input.originalMessageId ? [field("X-Relay-Message-ID", input.originalMessageId)] : []),
    field("Arrival-Date", rfc5322Date(input.arrivalDate)),
  ];
  const perRecipient = input.recipients.map((r) =>
    [
      ...(r.originalRecipient
        ? [field("Original-Recipient", originalRecipient(r.originalRecipient))]
        : []),
      field("Final-Recipient", addressType(r.recipient)),
      field("Action", r.action),
      field("Status", r.status),
      ...(r.remoteMta ? [field("Remote-MTA", `dns; ${r.remoteMta}`)] : []),
      ...(r.diagnostic
        ? [field("Diagnostic-Code", `smtp; ${asciiOnly(formatReply(r.diagnostic))}`)]
        : []),
      ...(r.lastAttemptAt ? [field("Last-Attempt-Date", rfc5322Date(r.lastAttemptAt))] : []),
      ...(r.action === "delayed" && r.willRetryUntil
        ? [field("Will-Retry-Until", rfc5322Date(r.willRetryUntil))]
        : []),
    ].join(CRLF),
  );
  return [perMessage.join(CRLF), ...perRecipient].join(CRLF + CRLF);
}

function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}

export interface BuiltDsn {
  mailFrom: "";
  to: string;
  raw: Uint8Array;
  /** The Subject field's value as written (encoded words kept, as the listener records a Subject). */
  subject: string;
  messageId: string;
}

/**
 * Builds an NDR (kind "failure") or delay notice (kind "delay") for the original sender: a
 * multipart/report (RFC 6522) with report-type=delivery-status whose parts are a human explanation
 * in the style of an Exchange NDR, the message/delivery-status fields (RFC 3464 §2.2, §2.3) and the
 * original headers as text/rfc822-headers. The envelope sender is <>, so nothing bounces back.
 * Throws DsnNotAllowedError for the null sender or when there is no recipient to report. Returns
 * the report's Subject (as written in the header) and Message-ID beside it, for tracking.
 */
export function buildDsn(input: DsnInput): BuiltDsn {
  const to = input.originalSender.trim();
  if (to === "" || to === "<>")
    throw new DsnNotAllowedError("no DSN may be sent to the null sender (RFC 5321 §4.5.5)");
  if (input.recipients.length === 0)
    throw new DsnNotAllowedError("a DSN needs a recipient to report");

  const boundary = input.boundary ?? `=_relay_${randomHex(12)}`;
  const rawSubject = headerValue(input.originalHeaders, "Subject");
  const subject = rawSubject ? decodeEncodedWords(rawSubject) : undefined;
  const prefix = { failure: "Undeliverable:", delay: "Delivery delayed:", success: "Relayed:" }[
    input.kind
  ];
  const originalId = headerValue(input.originalHeaders, "Message-ID");
  const threadId = originalId && /^<[^<>\s]+>$/.test(originalId) ? originalId : undefined;
  const subjectField = subject ? `${prefix} ${encodeWords(subject)}` : prefix;
  const messageId = `<${randomHex(16)}@${input.reportingMta}>`;
  const from = input.postmaster.includes("<")
    ? input.postmaster
    : `Mail Delivery System <${input.postmaster}>`;

  const headers = [
    field("From", from),
    field("To", `<${to}>`),
    field("Subject", subjectField),
    field("Date", rfc5322Date(input.now)),
    field("Message-ID", messageId),
    ...(threadId ? [field("In-Reply-To", threadId), field("References", threadId)] : []),
    // RFC 3834 §5: an automatic response; auto-responders must not answer it.
    field("Auto-Submitted", "auto-replied"),
    field("MIME-Version", "1.0"),
    field("Content-Type", `multipart/report; report-type=delivery-status; boundary="${boundary}"`),
  ];

  const original = normalizeLines(input.originalHeaders).join(CRLF);
  const originalAscii = isPrintableAscii(original.replace(/\r\n|\t/g, ""));
  const originalBody = originalAscii
    ? normalizeLines(original).flatMap(hardWrap).join(CRLF)
    : quotedPrintable(original);

  const parts = [
    [
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "Content-Description: Notification",
      "",
      quotedPrintable(humanText(input, subject)),
    ],
    [
      "Content-Type: message/delivery-status",
      "Content-Description: Delivery report",
      "",
      deliveryStatus(input),
    ],
    input.fullOriginal
      ? // RFC 2046 §5.2.1: message/rfc822 is 7bit (callers pass only 7-bit originals).
        [
          "Content-Type: message/rfc822",
          "Content-Description: Original message",
          "",
          new TextDecoder().decode(input.fullOriginal).replace(/\r\n$/, ""),
        ]
      : [
          "Content-Type: text/rfc822-headers",
          `Content-Transfer-Encoding: ${originalAscii ? "7bit" : "quoted-printable"}`,
          "Content-Description: Undelivered message headers",
          "",
          originalBody,
        ],
  ];

  const text = [
    ...headers,
    "",
    "This is a MIME-formatted delivery status notification.",
    "",
    ...parts.flatMap((p) => [`--${boundary}`, ...p, ""]),
    `--${boundary}--`,
    "",
  ].join(CRLF);
  const written = subjectField.replace(/\s+/g, " ").trim();
  return { mailFrom: "", to, raw: utf8.encode(text), subject: written, messageId };
}
