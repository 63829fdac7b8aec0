// Queue Viewer: queues per next hop (Get-Queue), a queue's messages (Get-Message), and Retry, Suspend, Resume, Remove with or without NDR.
import { listMessages, MESSAGE_COLUMNS, messageRow, rowDetail } from "#cli/commands/message.ts";
import { currentQueues, QUEUE_COLUMNS, queueRow, retryQueueMessages } from "#cli/commands/queue.ts";
import {
  type AdminResult,
  removeMessage,
  resumeMessage,
  retryMessage,
  suspendMessage,
} from "#core/usecases/admin.ts";
import { POISON_QUEUE } from "#core/usecases/admin-views.ts";
import {
  type ConsoleApp,
  type ConsoleRequest,
  type ConsoleRoute,
  redirect,
  reply,
} from "../app.ts";
import { html, path, table } from "../html.ts";
import { csrfField } from "../layout.ts";

const ACTIONS = {
  retry: { label: "Retry", past: "Retrying", run: retryMessage },
  suspend: { label: "Suspend", past: "Suspended", run: suspendMessage },
  resume: { label: "Resume", past: "Resumed", run: resumeMessage },
} as const;

/** What an action did, in the words the CLI prints. */
function outcome(action: string, past: string, r: AdminResult): string {
  switch (r.kind) {
    case "done": {
      const ndr = r.ndr
        ? r.ndr.sent
          ? `; NDR ${r.ndr.dsnMessageId} queued to the sender`
          : `; no NDR (${r.ndr.reason})`
        : "";
      return `${past} message ${r.messageId}: ${r.recipients.join(", ") || "no recipient changed"}${ndr}${r.note ? `; ${r.note}` : ""}.`;
    }
    case "not-found":
      return `Message ${r.messageId} not found.`;
    case "nothing-to-do":
      return `${action} message ${r.messageId}: ${r.reason}.`;
    case "unsupported":
      return `${action} message ${r.messageId}: not supported here: ${r.reason}.`;
  }
}

const button = (
  action: string,
  target: string,
  label: string,
  back: string,
  csrf: string,
  cls = "secondary",
) =>
  html`<form method="post" action="${action}">${csrfField(csrf)}<input type="hidden" name="back" value="${back}"><button type="submit" class="${cls}" aria-label="${label} ${target}">${label.split(" ")[0]}</button></form>`;

async function queuesPage(app: ConsoleApp, req: ConsoleRequest) {
  const queues = await currentQueues(app.ctx);
  const rows = queues.map(queueRow);
  const actions = (i: number) => {
    const q = queues[i];
    if (!q) return html``;
    return html`<a href="${path("queues", "view", q.identity)}">Messages<span class="sr-only"> in ${q.identity}</span></a>
${q.status === "Retry" || q.identity === POISON_QUEUE ? button(path("queues", "retry", q.identity), q.identity, "Retry queue", "/queues", req.csrf) : ""}`;
  };
  // htmx refreshes the table every 5 s; without JavaScript the page is reloaded by hand.
  const body = html`<p>Every queue of the relay (Get-Queue): one per next hop, plus Submission and Poison. Updated every 5 seconds.</p>
<div id="queues" hx-get="/queues" hx-trigger="every 5s" hx-select="#queues" hx-swap="outerHTML">
${table("Queues", QUEUE_COLUMNS, rows, actions)}</div>`;
  return reply(app, req, "Queues", body);
}

async function queuePage(app: ConsoleApp, req: ConsoleRequest, identity: string) {
  const views = await listMessages(app.ctx, identity).catch((e: Error) => e);
  if (views instanceof Error) {
    req.flash(views.message);
    return redirect("/queues");
  }
  const back = path("queues", "view", identity);
  const rows = views.map(messageRow);
  const actions = (i: number) => {
    const m = views[i];
    if (!m || m.queue === POISON_QUEUE) return html``;
    return html`<a href="${path("messages", m.messageId)}">Details<span class="sr-only"> of ${m.messageId}</span></a>
${m.status === "Retry" ? button(path("messages", "retry", m.messageId), m.messageId, "Retry message", back, req.csrf) : ""}
${m.status === "Suspended" ? button(path("messages", "resume", m.messageId), m.messageId, "Resume message", back, req.csrf) : button(path("messages", "suspend", m.messageId), m.messageId, "Suspend message", back, req.csrf)}
<a href="${path("messages", "remove", m.messageId)}">Remove<span class="sr-only"> ${m.messageId}</span></a>`;
  };
  const body = html`<p><a href="/queues">All queues</a></p>
<div id="messages" hx-get="${back}" hx-trigger="every 5s" hx-select="#messages" hx-swap="outerHTML">
${table(`Messages in ${identity}`, MESSAGE_COLUMNS, rows, actions)}</div>`;
  return reply(app, req, `Queue ${identity}`, body);
}

async function messagePage(app: ConsoleApp, req: ConsoleRequest, id: string) {
  const rows = await (await app.ctx.queues()).deps.tracking.listByMessage(id);
  const first = rows[0];
  if (!first)
    return reply(
      app,
      req,
      "Message not found",
      html`<p>No message ${id}. <a href="/queues">Queues</a></p>`,
      { status: 404 },
    );
  const details = rows.map(rowDetail);
  const body = html`<dl><dt>From</dt><dd>${first.sender || "<>"}</dd><dt>Subject</dt><dd>${rows.find((r) => r.subject)?.subject ?? ""}</dd>
<dt>Received</dt><dd>${first.receivedAt}</dd><dt>Message-ID</dt><dd>${first.internetMessageId ?? ""}</dd></dl>
${table("Recipients", Object.keys(details[0] ?? {}), details)}
<p><a href="/trace?messageId=${encodeURIComponent(id)}">Message trace of this message</a></p>`;
  return reply(app, req, `Message ${id}`, body);
}

function removeConfirm(app: ConsoleApp, req: ConsoleRequest, id: string) {
  const body = html`<form method="post" action="${path("messages", "remove", id)}">${csrfField(req.csrf)}
<p>Remove message <strong>${id}</strong> from its queues? Every recipient not yet delivered fails with "Removed by administrator".</p>
<div class="field"><input type="checkbox" id="with-ndr" name="withNdr"><label for="with-ndr" class="inline">Send a non-delivery report (NDR) to the sender</label></div>
<p><button type="submit" class="danger">Remove</button> <a class="button secondary" href="/queues">Cancel</a></p></form>`;
  return reply(app, req, "Remove message", body);
}

/** Only a path of this console's queues is a place to go back to. */
const backTo = (req: ConsoleRequest) => {
  const b = req.form.get("back") ?? "";
  return /^\/(queues|messages)(\/[^/]*)*$/.test(b) ? b : "/queues";
};

export const QUEUE_ROUTES: ConsoleRoute[] = [
  { method: "GET", path: /^\/queues$/, handle: queuesPage },
  {
    method: "GET",
    path: /^\/queues\/view\/(.+)$/,
    handle: (app, req, [id = ""]) => queuePage(app, req, id),
  },
  {
    method: "POST",
    path: /^\/queues\/retry\/(.+)$/,
    handle: async (app, req, [identity = ""]) => {
      try {
        if (identity.toLowerCase() === POISON_QUEUE.toLowerCase()) {
          const { redriveDeadLetters } = await import("#core/usecases/admin-redrive.ts");
          const backend = await app.ctx.queues();
          const results = await redriveDeadLetters(backend.deps, backend.deadLetterQueues());
          const moved = results.reduce((n, r) => n + r.moved, 0);
          app.audit(req, "retry-queue", `queue ${POISON_QUEUE}`, undefined, results);
          req.flash(`Redrove ${moved} message(s) from the Poison queue.`);
        } else {
          const r = await retryQueueMessages(app.ctx, identity);
          app.audit(req, "retry-queue", `queue ${r.queue}`, undefined, r);
          req.flash(
            `Retrying ${r.retried.length} message(s) in queue ${r.queue} now.${r.notRetried.length ? ` Not retried: ${r.notRetried.join("; ")}` : ""}`,
          );
        }
      } catch (error) {
        req.flash((error as Error).message);
      }
      return redirect(backTo(req));
    },
  },
  {
    method: "GET",
    path: /^\/messages\/remove\/(.+)$/,
    handle: async (app, req, [id = ""]) => removeConfirm(app, req, id),
  },
  {
    method: "POST",
    path: /^\/messages\/remove\/(.+)$/,
    handle: async (app, req, [id = ""]) => {
      const withNdr = req.form.get("withNdr") === "on";
      const r = await removeMessage((await app.ctx.queues()).deps, id, { withNdr });
      app.audit(
        req,
        withNdr ? "remove-message-with-ndr" : "remove-message",
        `message ${id}`,
        undefined,
        r,
      );
      req.flash(outcome("Remove", "Removed", r));
      return redirect("/queues");
    },
  },
  {
    method: "POST",
    path: /^\/messages\/(retry|suspend|resume)\/(.+)$/,
    handle: async (app, req, [verb = "", id = ""]) => {
      const a = ACTIONS[verb as keyof typeof ACTIONS];
      const r = await a.run((await app.ctx.queues()).deps, id);
      app.audit(req, `${verb}-message`, `message ${id}`, undefined, r);
      req.flash(outcome(a.label, a.past, r));
      return redirect(backTo(req));
    },
  },
  {
    method: "GET",
    path: /^\/messages\/([^/]+)$/,
    handle: (app, req, [id = ""]) => messagePage(app, req, id),
  },
];
