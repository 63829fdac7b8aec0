// The suppression list: which hard bounces suppress a recipient, for how long, and what a suppressed recipient's NDR says.
import { parseMailbox } from "../address.ts";
import type { RecipientOutcome } from "../message.ts";
import type { TransportSettings } from "../records/transport-settings.ts";
import { formatReply, REMOTE_PERMANENT, type SmtpReply } from "../replies.ts";

/** One suppressed recipient (SES's account-level suppression list, per relay). */
export interface SuppressionEntry {
  /** The address, lower-cased (the key; mailbox providers treat local parts case-blind). */
  recipient: string;
  /** When it was suppressed (ISO 8601). */
  since: string;
  /** When the entry lapses (ISO 8601); absent: until an admin removes it. */
  expiresAt?: string;
  /** "bounce": added by a hard bounce; "admin": `relay suppression new`. */
  source: "bounce" | "admin";
  /** Why: the remote reply as the wire showed it ("550 5.1.1 User unknown") or the admin's reason. */
  reason: string;
  /** For bounces: the remote host and the enhanced code of the reply, and what was being sent. */
  remoteHost?: string;
  enhanced?: string;
  messageId?: string;
  connector?: string;
}

/**
 * The suppression list, shared by every deliver invocation (the tracking table in AWS, SQLite
 * locally). `put` adds or replaces the entry of `entry.recipient`; `get` and `list` never return
 * an entry past its `expiresAt` (DynamoDB's TTL deletes it only eventually); `delete` resolves
 * whether there was a live entry. Rejects when the store cannot be reached.
 */
export interface SuppressionStore {
  put(entry: SuppressionEntry): Promise<void>;
  get(recipient: string): Promise<SuppressionEntry | undefined>;
  /** Live entries, ordered by recipient. */
  list(): Promise<SuppressionEntry[]>;
  delete(recipient: string): Promise<boolean>;
}

export const suppressionKey = (recipient: string): string => recipient.trim().toLowerCase();

/** The address as stored, or why it is not one (for the CLI's clear refusal). */
export function suppressionAddress(
  text: string,
): { ok: true; recipient: string } | { ok: false; reason: string } {
  const parsed = parseMailbox(text.trim());
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  return { ok: true, recipient: suppressionKey(parsed.mailbox.address) };
}

/** Not past its expiry at `now` (an entry without one stays until removed). */
export const suppressionLive = (e: SuppressionEntry, now: Date): boolean =>
  e.expiresAt === undefined || Date.parse(e.expiresAt) > now.getTime();

/**
 * The entry a remote hard bounce makes, or undefined when the outcome does not suppress: only a
 * permanent reply from the remote host itself (our own DNS or routing failures say nothing about
 * the mailbox) whose enhanced code is in TransportSettings.suppressionEnhancedCodes.
 */
export function suppressionFor(
  settings: TransportSettings,
  outcome: RecipientOutcome,
  context: { messageId: string; connector: string; now: Date },
): SuppressionEntry | undefined {
  if (outcome.status !== "permanent" || !outcome.remoteHost) return undefined;
  if (outcome.suppressedSince !== undefined) return undefined;
  if (settings.suppressionDurationSeconds === 0) return undefined;
  if (!settings.suppressionEnhancedCodes.includes(outcome.reply.enhanced)) return undefined;
  const expires = context.now.getTime() + settings.suppressionDurationSeconds * 1000;
  return {
    recipient: suppressionKey(outcome.recipient),
    since: context.now.toISOString(),
    expiresAt: new Date(expires).toISOString(),
    source: "bounce",
    reason: formatReply(outcome.reply),
    remoteHost: outcome.remoteHost,
    enhanced: outcome.reply.enhanced,
    messageId: context.messageId,
    connector: context.connector,
  };
}

/**
 * What a suppressed recipient's NDR says. A bounce entry keeps its original enhanced code (what
 * the sender should fix) and quotes the original reply; an admin entry says only that it was
 * suppressed (the admin's reason may be internal: it goes to LastError, not to the sender).
 */
export function suppressedReply(entry: SuppressionEntry): SmtpReply {
  return entry.source === "bounce"
    ? REMOTE_PERMANENT.suppressedAfterBounce(entry.enhanced ?? "5.1.1", entry.since, entry.reason)
    : REMOTE_PERMANENT.suppressedByAdmin(entry.since);
}

/** The suppressed recipient's outcome: permanent, not attempted, with the detail for LastError. */
export function suppressedOutcome(recipient: string, entry: SuppressionEntry): RecipientOutcome {
  const origin =
    entry.source === "bounce"
      ? `hard bounce from ${entry.remoteHost ?? "the remote host"}: ${entry.reason}`
      : `added by an admin: ${entry.reason}`;
  const until = entry.expiresAt ? ` until ${entry.expiresAt}` : "";
  return {
    recipient,
    status: "permanent",
    reply: suppressedReply(entry),
    suppressedSince: entry.since,
    detail: `Not attempted: recipient on the suppression list since ${entry.since}${until} (${origin})`,
  };
}
