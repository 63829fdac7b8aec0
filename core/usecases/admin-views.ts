// What an admin sees: queues per next hop (Get-Queue), their messages (Get-Message) and the tracking log (Get-MessageTrackingLog).
import type { RecipientRow, RecipientStatus, TrackingEvent } from "../ports.ts";
import type { SendConnector } from "../records/send-connector.ts";

export const SUBMISSION_QUEUE = "Submission";
export const POISON_QUEUE = "Poison";

export type QueueStatus = "Ready" | "Retry" | "Suspended";
export type DeliveryType = "MX" | "SmartHost" | "Undefined" | "Unknown";

export interface QueueView {
  identity: string;
  deliveryType: DeliveryType;
  status: QueueStatus;
  messageCount: number;
  nextHopDomain: string;
  /** The send connector the queue's messages were routed to. */
  connector?: string;
  lastError?: string;
  nextRetryTime?: string;
}

export interface MessageView {
  identity: string;
  messageId: string;
  queue: string;
  fromAddress: string;
  status: QueueStatus;
  size?: number;
  subject?: string;
  recipients: string[];
  lastError?: string;
  retryCount: number;
  nextRetryTime?: string;
  receivedAt: string;
}

/** Rows not yet routed (or held before routing) wait in Submission; the rest in their next hop's queue. */
export const queueOf = (r: RecipientRow): string => r.nextHop ?? SUBMISSION_QUEUE;

function deliveryTypeOf(connector: string | undefined, connectors: SendConnector[]): DeliveryType {
  const c = connectors.find((x) => x.name.toLowerCase() === connector?.toLowerCase());
  if (!c) return "Unknown";
  return c.dnsRoutingEnabled ? "MX" : "SmartHost";
}

/** Exchange's states: Retry after a failed attempt; Suspended when an admin (or poison) holds all of it. */
function statusOf(statuses: RecipientStatus[]): QueueStatus {
  if (statuses.length > 0 && statuses.every((s) => s === "Suspended")) return "Suspended";
  return statuses.includes("Deferred") ? "Retry" : "Ready";
}

/** The newest LastError and the soonest retry among the deferred rows. */
function retryState(rows: RecipientRow[]): { lastError?: string; nextRetryTime?: string } {
  const failed = rows
    .filter((r) => r.lastError)
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const retries = rows
    .filter((r) => r.status === "Deferred" && r.nextRetryAt)
    .map((r) => r.nextRetryAt as string)
    .sort();
  const out: { lastError?: string; nextRetryTime?: string } = {};
  if (failed[0]?.lastError) out.lastError = failed[0].lastError;
  if (retries[0]) out.nextRetryTime = retries[0];
  return out;
}

const distinctMessages = (rows: RecipientRow[]) => new Set(rows.map((r) => r.messageId)).size;

/**
 * Get-Queue from the active tracking rows: one queue per next hop, plus Submission (what the
 * submission queue holds, when the runtime can count it) and Poison (the dead-letter queues).
 */
export function queueViews(
  active: RecipientRow[],
  connectors: SendConnector[],
  counts: { submission?: number; poison?: number } = {},
): QueueView[] {
  const byQueue = new Map<string, RecipientRow[]>();
  for (const r of active) byQueue.set(queueOf(r), [...(byQueue.get(queueOf(r)) ?? []), r]);
  const submissionRows = byQueue.get(SUBMISSION_QUEUE) ?? [];
  byQueue.delete(SUBMISSION_QUEUE);
  const views: QueueView[] = [
    {
      identity: SUBMISSION_QUEUE,
      deliveryType: "Undefined",
      status: statusOf(submissionRows.map((r) => r.status)),
      messageCount: Math.max(counts.submission ?? 0, distinctMessages(submissionRows)),
      nextHopDomain: SUBMISSION_QUEUE,
      ...retryState(submissionRows),
    },
  ];
  for (const [key, rows] of [...byQueue].sort(([a], [b]) => a.localeCompare(b))) {
    const connector = rows.find((r) => r.connector)?.connector;
    views.push({
      identity: key,
      deliveryType: deliveryTypeOf(connector, connectors),
      status: statusOf(rows.map((r) => r.status)),
      messageCount: distinctMessages(rows),
      nextHopDomain: key,
      ...(connector ? { connector } : {}),
      ...retryState(rows),
    });
  }
  if (counts.poison !== undefined)
    views.push({
      identity: POISON_QUEUE,
      deliveryType: "Undefined",
      status: "Ready",
      messageCount: counts.poison,
      nextHopDomain: POISON_QUEUE,
    });
  return views;
}

/** Get-Message: one line per message and queue, its recipients in that queue together. */
export function messageViews(active: RecipientRow[]): MessageView[] {
  const groups = new Map<string, RecipientRow[]>();
  for (const r of active) {
    const k = `${queueOf(r)}\u0000${r.messageId}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const views: MessageView[] = [];
  for (const rows of groups.values()) {
    const first = rows[0] as RecipientRow;
    const queue = queueOf(first);
    const subject = rows.find((r) => r.subject)?.subject;
    views.push({
      identity: `${queue}\\${first.messageId}`,
      messageId: first.messageId,
      queue,
      fromAddress: first.sender,
      status: statusOf(rows.map((r) => r.status)),
      ...(first.size !== undefined ? { size: first.size } : {}),
      ...(subject ? { subject } : {}),
      recipients: rows.map((r) => r.recipient),
      ...retryState(rows),
      retryCount: Math.max(...rows.map((r) => r.attempts)),
      receivedAt: first.receivedAt,
    });
  }
  return views.sort(
    (a, b) =>
      a.queue.localeCompare(b.queue) ||
      a.receivedAt.localeCompare(b.receivedAt) ||
      a.messageId.localeCompare(b.messageId),
  );
}

export interface TrackingLine {
  timestamp: string;
  eventId: TrackingEvent["event"];
  source: string;
  messageId: string;
  sender?: string;
  recipients: string[];
  messageSubject?: string;
  detail?: string;
}

/**
 * Get-MessageTrackingLog from the events and the messages' rows. The listener writes no tracking
 * (it has no access to the table), so a RECEIVE line is made from the rows route wrote, which carry
 * the arrival time, sender, size and Message-ID, unless a RECEIVE event is already recorded.
 */
export function trackingLog(
  events: TrackingEvent[],
  rowsByMessage: Map<string, RecipientRow[]>,
): TrackingLine[] {
  const subjectOf = (id: string) => rowsByMessage.get(id)?.find((r) => r.subject)?.subject;
  const lines: TrackingLine[] = [];
  const received = new Set(events.filter((e) => e.event === "RECEIVE").map((e) => e.messageId));
  for (const id of new Set(events.map((e) => e.messageId))) {
    const rows = rowsByMessage.get(id) ?? [];
    const first = rows[0];
    if (received.has(id) || !first) continue;
    const subject = subjectOf(id);
    const detail = [
      first.size !== undefined ? `${first.size} bytes` : "",
      first.internetMessageId ? `Message-ID ${first.internetMessageId}` : "",
    ].filter(Boolean);
    lines.push({
      timestamp: first.receivedAt,
      eventId: "RECEIVE",
      source: "SMTP",
      messageId: id,
      sender: first.sender,
      recipients: rows.map((r) => r.recipient),
      ...(subject ? { messageSubject: subject } : {}),
      ...(detail.length ? { detail: detail.join(", ") } : {}),
    });
  }
  for (const e of events) {
    const subject = subjectOf(e.messageId);
    lines.push({
      timestamp: e.at,
      eventId: e.event,
      source: e.source,
      messageId: e.messageId,
      ...(e.sender !== undefined ? { sender: e.sender } : {}),
      recipients: e.recipient ? [e.recipient] : [],
      ...(subject ? { messageSubject: subject } : {}),
      ...(e.detail !== undefined ? { detail: e.detail } : {}),
    });
  }
  // Stable: events of one instant keep the order they were written in.
  return lines
    .map((l, i) => ({ l, i }))
    .sort((a, b) => a.l.timestamp.localeCompare(b.l.timestamp) || a.i - b.i)
    .map((x) => x.l);
}
