// Route explain: a recipient (and sender, size) in, the send connector that wins and why every other lost out (relay route explain).

import { address, bytes } from "#cli/args.ts";
import { routeExplanation } from "#cli/commands/route.ts";
import type { ConsoleApp, ConsoleRequest, ConsoleRoute } from "../app.ts";
import { reply } from "../app.ts";
import { addError, type FieldErrors, fieldErrors, invalid, MAX_FIELD_CHARS } from "../forms.ts";
import { type Html, html, table } from "../html.ts";

const clip = (v: string | null) => (v ?? "").slice(0, MAX_FIELD_CHARS);
const stripFlag = (m: string) => m.replace(/^--[\w-]+: /, "");

async function explain(app: ConsoleApp, q: URLSearchParams, errors: FieldErrors): Promise<Html> {
  const input = {
    to: clip(q.get("to")).trim(),
    from: clip(q.get("from")),
    size: clip(q.get("size")),
  };
  if (input.to === "") return html``;
  let to = "";
  let from = "";
  let size = 0;
  try {
    to = address("to", input.to);
  } catch (e) {
    addError(errors, "to", stripFlag((e as Error).message));
  }
  try {
    from = address("from", input.from, { nullSender: true });
  } catch (e) {
    addError(errors, "from", stripFlag((e as Error).message));
  }
  try {
    size = bytes("size", input.size.trim() || "0");
  } catch (e) {
    addError(errors, "size", stripFlag((e as Error).message));
  }
  if (errors.size > 0) return html``;
  const a = await routeExplanation(app.ctx, { to, from, size });
  const s = a.selected;
  const verdict = s
    ? html`<p class="notice" role="status"><strong>${to}</strong>: send connector <strong>${s.connector}</strong> (address space "${s.addressSpace.domain}" cost ${s.addressSpace.cost}), next hop ${s.nextHopKey} ${s.nextHop.type === "mx" ? "by MX" : "via smart hosts"}.</p><p>TLS policy: ${s.tlsPolicy}</p>`
    : html`<p class="problems" role="status"><strong>${to}</strong>: no route: ${a.reason ?? ""}</p>`;
  const rows = a.candidates.map((c) => ({
    Connector: c.connector,
    Verdict: c.verdict,
    AddressSpace: c.addressSpace ? `${c.addressSpace.domain};${c.addressSpace.cost}` : "",
    Reason: c.reason,
  }));
  return html`${verdict}${table("Every send connector", ["Connector", "Verdict", "AddressSpace", "Reason"], rows)}`;
}

async function routePage(app: ConsoleApp, req: ConsoleRequest) {
  const q = req.url.searchParams;
  const errors: FieldErrors = new Map();
  const result = html`<div id="route-result" aria-live="polite">${await explain(app, q, errors)}</div>`;
  const field = (name: string, label: string, hint: string, value: string) =>
    html`<div class="field"><label for="r-${name}">${label}</label><input type="text" id="r-${name}" name="${name}" value="${value}" maxlength="${MAX_FIELD_CHARS}"${invalid(name, errors)}><p class="hint" id="hint-${name}">${hint}</p>${fieldErrors(name, errors)}</div>`;
  // The form works as a plain GET; htmx updates the answer while typing.
  const body = html`<form method="get" action="/route" hx-get="/route" hx-trigger="input changed delay:400ms" hx-target="#route-result" hx-select="#route-result" hx-swap="outerHTML">
${field("to", "Recipient", "The address mail is sent to, e.g. ann@fabrikam.com.", clip(q.get("to")))}
${field("from", "Sender", "Optional: MAIL FROM, for sender-based routing.", clip(q.get("from")))}
${field("size", "Size", "Optional: bytes, or 10MB.", clip(q.get("size")))}
<p><button type="submit">Explain</button></p></form>
${result}`;
  return reply(app, req, "Route explain", body, { status: errors.size > 0 ? 400 : 200 });
}

export const ROUTE_ROUTES: ConsoleRoute[] = [
  { method: "GET", path: /^\/route$/, handle: routePage },
];
