// `relay track --message-id ID | --sender ADDR | --recipient ADDR` (Get-MessageTrackingLog).
import type { RecipientRow, TrackingEventType } from "#core/ports.ts";
import { type TrackingLine, trackingLog } from "#core/usecases/admin-views.ts";
import { parseFlags, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { NotFoundCliError, UsageError } from "../errors.ts";
import { type Out, printTable } from "../output.ts";
import { EVENT_IDS, verbOptions } from "./table.ts";

export const TRACK_COLUMNS = [
  "Timestamp",
  "EventId",
  "Source",
  "Sender",
  "Recipients",
  "MessageSubject",
  "Detail",
];

export const trackRow = (l: TrackingLine) => ({
  Timestamp: l.timestamp,
  EventId: l.eventId,
  Source: l.source,
  Sender: l.sender === "" ? "<>" : l.sender,
  Recipients: l.recipients,
  MessageSubject: l.messageSubject,
  Detail: l.detail,
});

export async function trackCommand(ctx: CliContext, out: Out, args: string[]): Promise<number> {
  const flags = parseFlags("track", args, verbOptions("track", ""));
  out.json = flags.json === true;
  const messageId = str(flags, "message-id");
  const sender = str(flags, "sender");
  const recipient = str(flags, "recipient");
  const eventId = str(flags, "event-id")?.toUpperCase();
  if (eventId !== undefined && !EVENT_IDS.includes(eventId as TrackingEventType))
    throw new UsageError(`--event-id: "${eventId}" is not one of ${EVENT_IDS.join(", ")}`);
  const backend = await ctx.queues();
  const tracking = backend.deps.tracking;
  const events = await tracking.events({
    ...(messageId !== undefined
      ? { messageId: messageId.slice(messageId.lastIndexOf("\\") + 1) }
      : {}),
    ...(sender !== undefined ? { sender: sender.replace(/^<>$/, "") } : {}),
    ...(recipient !== undefined ? { recipient } : {}),
  });
  const rows = new Map<string, RecipientRow[]>();
  for (const id of new Set(events.map((e) => e.messageId)))
    rows.set(id, await tracking.listByMessage(id));
  let lines = trackingLog(events, rows);
  if (eventId !== undefined) lines = lines.filter((l) => l.eventId === eventId);
  if (messageId !== undefined && events.length === 0)
    throw new NotFoundCliError(`no tracking events for message ${messageId}`);
  printTable(out, lines.map(trackRow), TRACK_COLUMNS, lines);
  return 0;
}
