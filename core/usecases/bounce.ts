// Emitting NDRs and delay DSNs: built by core/dsn.ts, sent from <> back through the submission queue to be routed like any mail.
import {
  type BuiltDsn,
  buildDsn,
  type DsnKind,
  DsnNotAllowedError,
  type DsnRecipient,
  shouldSendDsn,
} from "../dsn.ts";
import {
  type MessageDsn,
  type NotifyKind,
  type RecipientDsn,
  recipientDsnOf,
  wantsNotice,
} from "../dsn-params.ts";
import { newMessageId } from "../ids.ts";
import type { BodyRef, Origin, SubmittedMessage } from "../message.ts";
import type { TransportSettings } from "../records/transport-settings.ts";
import { bodyRefFor, headerBlock, readBody } from "./body.ts";
import { countEvent } from "./counts.ts";
import { logOf, type RelayDeps } from "./deps.ts";

/** The relay's own name: TransportSettings.hostName, else the runtime's, else "localhost". */
export function relayHostName(settings: TransportSettings, deps: RelayDeps): string {
  return settings.hostName ?? deps.hostName ?? "localhost";
}

export function postmasterOf(settings: TransportSettings, deps: RelayDeps): string {
  return settings.postmaster || `postmaster@${relayHostName(settings, deps)}`;
}

export interface OriginalMessage {
  id: string;
  sender: string;
  receivedAt: string;
  body: BodyRef;
  /** Known to route; delivery jobs do not carry it, and there the null-sender rule alone applies. */
  origin?: Origin;
  /** The client's RFC 3461 parameters: RET and ENVID, and NOTIFY and ORCPT per recipient. */
  dsn?: MessageDsn;
  rcptDsn?: Record<string, RecipientDsn>;
}

const NOTIFY: Record<DsnKind, NotifyKind> = {
  failure: "FAILURE",
  delay: "DELAY",
  success: "SUCCESS",
};

/**
 * RET=FULL returns the whole message in an NDR up to this size; larger ones, and 8-bit ones
 * (message/rfc822 must be 7bit to pass every hop, RFC 2046 §5.2.1), get their headers back.
 */
export const FULL_RETURN_LIMIT = 10 * 1024 * 1024;

export type DsnResult = { sent: true; dsnMessageId: string } | { sent: false; reason: string };

/**
 * Sends one DSN about `recipients` of `original` to its envelope sender. Never for a null sender
 * or about the relay's own reports (RFC 5321 §4.5.5, which is what prevents NDR loops): then it
 * resolves `{ sent: false }`. Rejects when the original body cannot be read or the queue refuses,
 * so the caller's job is retried rather than the report lost.
 */
export async function sendDsn(
  deps: RelayDeps,
  settings: TransportSettings,
  kind: DsnKind,
  original: OriginalMessage,
  all: DsnRecipient[],
): Promise<DsnResult> {
  // RFC 3461 §4.1: only the notices each recipient's NOTIFY asked for (NEVER: none).
  const recipients = all
    .filter((r) => wantsNotice(recipientDsnOf(original.rcptDsn, r.recipient), NOTIFY[kind]))
    .map((r) => {
      const orcpt = recipientDsnOf(original.rcptDsn, r.recipient)?.orcpt;
      return orcpt ? { ...r, originalRecipient: orcpt } : r;
    });
  if (recipients.length === 0) return { sent: false, reason: "no recipient asked for this notice" };
  if (original.origin && !shouldSendDsn(original.sender, original.origin))
    return { sent: false, reason: "the original is itself a report" };
  const now = deps.clock.now();
  const raw = await readBody(deps.messages, original.body);
  const headers = headerBlock(raw);
  const full =
    kind === "failure" &&
    original.dsn?.ret === "FULL" &&
    raw.byteLength <= FULL_RETURN_LIMIT &&
    !raw.some((b) => b > 0x7f);
  let dsn: BuiltDsn;
  try {
    dsn = buildDsn({
      kind,
      reportingMta: relayHostName(settings, deps),
      postmaster: postmasterOf(settings, deps),
      originalSender: original.sender,
      originalMessageId: original.id,
      arrivalDate: new Date(original.receivedAt),
      now,
      recipients,
      originalHeaders: headers,
      ...(original.dsn?.envid ? { envelopeId: original.dsn.envid } : {}),
      ...(full ? { fullOriginal: raw } : {}),
    });
  } catch (error) {
    if (error instanceof DsnNotAllowedError) return { sent: false, reason: error.message };
    throw error;
  }
  const id = newMessageId(now);
  const message: SubmittedMessage = {
    id,
    receivedAt: now.toISOString(),
    envelope: { mailFrom: dsn.mailFrom, rcptTo: [dsn.to] },
    size: dsn.raw.byteLength,
    body: await bodyRefFor(deps, id, dsn.raw),
    origin: { type: "dsn", aboutMessageId: original.id },
    subject: dsn.subject,
    internetMessageId: dsn.messageId,
  };
  await deps.submissionQueue.send(message);
  await deps.tracking.addEvent({
    messageId: original.id,
    sender: original.sender,
    at: now.toISOString(),
    event: "DSN",
    source: "DSN",
    detail: `${{ failure: "NDR", delay: "delay DSN", success: "relay DSN" }[kind]} ${id} to ${dsn.to} for ${recipients
      .map((r) => `${r.recipient} (${r.status})`)
      .join(", ")}`,
  });
  countEvent(deps, "DSN", { DsnKind: kind });
  logOf(deps).info("DSN queued", { kind, messageId: original.id, dsnMessageId: id });
  return { sent: true, dsnMessageId: id };
}
