// How tracking rows and events sit in DynamoDB items: keys, index attributes, and events read back from items.
import {
  FINAL_STATUSES,
  type RecipientRow,
  type RecipientStatus,
  type RowEvent,
  type TrackingEvent,
} from "#core/ports.ts";
import { inTimeOrder } from "#core/tracking-events.ts";
import { ACTIVE_SHARDS } from "./table-design.ts";

// Table design: see TRACKING_TABLE in table-design.ts.
export const INTERNAL = [
  "pk",
  "sk",
  "activeShard",
  "senderKey",
  "recipientKey",
  "eventSort",
  "expiresAt",
  "events",
];

export const msgKey = (messageId: string) => `MSG#${messageId}`;
export const rcptKey = (recipient: string) => `RCPT#${recipient.toLowerCase()}`;
/** GSI key attributes may not be empty strings; the null sender of a bounce is shown as "<>" as in Exchange. */
export const senderKey = (sender: string) => sender.toLowerCase() || "<>";
export const isFinal = (s: RecipientStatus) => FINAL_STATUSES.includes(s);
/** A listed row's sort key in the `bySender` and `byRecipient` indexes: when it was first listed. */
export const listedSort = (at: string) => `EVT#${at}#ROW`;

/** A stable shard per message, so a message's rows sit together in the `active` index. */
export function activeShard(messageId: string): string {
  let h = 0;
  for (let i = 0; i < messageId.length; i++) h = (h * 31 + messageId.charCodeAt(i)) >>> 0;
  return String(h % ACTIVE_SHARDS);
}

export function strip<T>(item: Record<string, unknown>): T {
  const out = { ...item };
  for (const k of INTERNAL) delete out[k];
  return out as T;
}

/**
 * The events among `items` (rows with their `events`, and events kept as items of their own) that
 * match every criterion, in time order.
 */
export function eventsOfItems(
  items: Record<string, unknown>[],
  query: { messageId?: string; sender?: string; recipient?: string },
): TrackingEvent[] {
  const wanted = (e: Record<string, unknown>) =>
    (query.messageId === undefined || e.messageId === query.messageId) &&
    (query.sender === undefined || e.senderKey === senderKey(query.sender)) &&
    (query.recipient === undefined || e.recipientKey === query.recipient.toLowerCase());
  const matching = items.filter(wanted);
  const logged = matching
    .filter((e) => String(e.sk).startsWith("EVT#"))
    .sort((a, b) => String(a.eventSort).localeCompare(String(b.eventSort)))
    .map((e) => strip<TrackingEvent>(e));
  const onRows = matching.flatMap((item) => {
    if (!String(item.sk).startsWith("RCPT#") || !Array.isArray(item.events)) return [];
    const { messageId, recipient, sender } = item as unknown as RecipientRow;
    return (item.events as RowEvent[]).map(
      (e): TrackingEvent => ({ messageId, recipient, sender, ...e }),
    );
  });
  return inTimeOrder(logged, onRows);
}
