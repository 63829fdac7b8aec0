// Message trace (Get-MessageTrackingLog): by sender, recipient, message id and time range, with every event and the remote replies.
import { TRACK_COLUMNS, trackRow } from "#cli/commands/track.ts";
import type { RecipientRow } from "#core/ports.ts";
import { trackingLog } from "#core/usecases/admin-views.ts";
import { type ConsoleApp, type ConsoleRequest, type ConsoleRoute, reply } from "../app.ts";
import { addError, type FieldErrors, fieldErrors, invalid } from "../forms.ts";
import { type Html, html, table } from "../html.ts";

const FIELDS = [
  ["sender", "Sender", "text", "MAIL FROM address; <> for reports"],
  ["recipient", "Recipient", "text", "a recipient address"],
  ["messageId", "Message id", "text", "the relay's id (250 2.6.0 <id>) or Queue\\id"],
  ["start", "From (UTC)", "datetime-local", "optional start of the time range"],
  ["end", "To (UTC)", "datetime-local", "optional end of the time range"],
] as const;

const value = (q: URLSearchParams, name: string) => (q.get(name) ?? "").slice(0, 320).trim();

function timeOf(q: URLSearchParams, name: string, errors: FieldErrors): string | undefined {
  const v = value(q, name);
  if (v === "") return undefined;
  const t = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  if (Number.isNaN(t.getTime())) {
    addError(errors, name, `"${v}" is not a date and time; use 2026-05-01T09:00`);
    return undefined;
  }
  return t.toISOString();
}

async function results(app: ConsoleApp, q: URLSearchParams, errors: FieldErrors): Promise<Html> {
  const messageId = value(q, "messageId");
  const sender = value(q, "sender");
  const recipient = value(q, "recipient");
  const start = timeOf(q, "start", errors);
  const end = timeOf(q, "end", errors);
  if (errors.size > 0) return html``;
  if (!messageId && !sender && !recipient)
    return html`<p class="empty">Give a sender, a recipient or a message id.</p>`;
  const tracking = (await app.ctx.queues()).deps.tracking;
  const events = await tracking.events({
    ...(messageId ? { messageId: messageId.slice(messageId.lastIndexOf("\\") + 1) } : {}),
    ...(sender ? { sender: sender.replace(/^<>$/, "") } : {}),
    ...(recipient ? { recipient } : {}),
  });
  const rows = new Map<string, RecipientRow[]>();
  for (const id of new Set(events.map((e) => e.messageId)))
    rows.set(id, await tracking.listByMessage(id));
  const lines = trackingLog(events, rows).filter(
    (l) => (!start || l.timestamp >= start) && (!end || l.timestamp <= end),
  );
  const shown = lines.map(trackRow);
  return table(`${lines.length} event(s)`, TRACK_COLUMNS, shown);
}

async function tracePage(app: ConsoleApp, req: ConsoleRequest) {
  const q = req.url.searchParams;
  const errors: FieldErrors = new Map();
  const found = await results(app, q, errors);
  const body = html`<form method="get" action="/trace">
${FIELDS.map(
  ([name, label, type, hint]) =>
    html`<div class="field"><label for="t-${name}">${label}</label><input type="${type}" id="t-${name}" name="${name}" value="${value(q, name)}" maxlength="320"${invalid(name, errors)}><p class="hint" id="hint-${name}">${hint}</p>${fieldErrors(name, errors)}</div>`,
)}
<p><button type="submit">Search</button></p></form>
<div id="trace-result" aria-live="polite">${found}</div>`;
  return reply(app, req, "Message trace", body, { status: errors.size > 0 ? 400 : 200 });
}

export const TRACE_ROUTES: ConsoleRoute[] = [
  { method: "GET", path: /^\/trace$/, handle: tracePage },
];
