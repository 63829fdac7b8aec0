// The "New send connector" wizard of the Exchange admin center: name and type, MX or smart hosts, address spaces with cost, source; one form, four steps.
import { parseAddressSpaces } from "#cli/commands/record-specs.ts";
import { SEND_CONNECTOR_USAGES } from "#core/records/send-connector.ts";
import {
  type ConsoleApp,
  type ConsoleRequest,
  type ConsoleRoute,
  redirect,
  reply,
} from "../app.ts";
import {
  addError,
  type FieldErrors,
  fieldErrors,
  invalid,
  MAX_FIELD_CHARS,
  summary,
} from "../forms.ts";
import { html } from "../html.ts";
import { csrfField } from "../layout.ts";
import { recordsOf, saveRecord } from "../records.ts";

/** What the admin typed, kept as text until it is saved. */
interface Draft {
  name: string;
  usage: string;
  routing: "mx" | "smarthost";
  smartHosts: string;
  spaces: Array<{ domain: string; cost: string }>;
  sources: string[];
}

const clip = (v: string | null) => (v ?? "").slice(0, MAX_FIELD_CHARS);

function readDraft(form: URLSearchParams): Draft {
  const spaces: Draft["spaces"] = [];
  for (let i = 0; i < 50 && form.has(`as.${i}.domain`); i++)
    spaces.push({ domain: clip(form.get(`as.${i}.domain`)), cost: clip(form.get(`as.${i}.cost`)) });
  return {
    name: clip(form.get("f.name")),
    usage: clip(form.get("f.usage")) || "Custom",
    routing: form.get("routing") === "smarthost" ? "smarthost" : "mx",
    smartHosts: clip(form.get("f.smartHosts")),
    spaces,
    sources: form.getAll("f.sourceListeners").map((s) => s.slice(0, 64)),
  };
}

function wizard(
  app: ConsoleApp,
  req: ConsoleRequest,
  d: Draft,
  receive: string[],
  errors: FieldErrors,
) {
  const spaces = d.spaces.length > 0 ? d.spaces : [{ domain: "", cost: "1" }];
  const body = html`${summary(errors)}<form method="post" action="/send-connectors/new" novalidate>
${csrfField(req.csrf)}
<fieldset><legend>1. Name and type</legend>
<div class="field"><label for="f-name">Name</label><input type="text" id="f-name" name="f.name" value="${d.name}" required maxlength="${MAX_FIELD_CHARS}"${invalid("name", errors)}>
<p class="hint" id="hint-name">Up to 64 characters, e.g. "To Internet".</p>${fieldErrors("name", errors)}</div>
<div class="field"><label for="f-usage">Type</label><select id="f-usage" name="f.usage"${invalid("usage", errors)}>
${SEND_CONNECTOR_USAGES.map((u) => html`<option${u === d.usage ? html` selected` : ""}>${u}</option>`)}</select>
<p class="hint" id="hint-usage">Custom, Internal, Internet or Partner, as in Exchange; it sets the default size limit.</p>${fieldErrors("usage", errors)}</div>
</fieldset>
<fieldset><legend>2. Network settings</legend>
<div class="field"><input type="radio" id="routing-mx" name="routing" value="mx"${d.routing === "mx" ? html` checked` : ""}>
<label for="routing-mx" class="inline">MX record associated with recipient domain</label></div>
<div class="field"><input type="radio" id="routing-smarthost" name="routing" value="smarthost"${d.routing === "smarthost" ? html` checked` : ""}>
<label for="routing-smarthost" class="inline">Route mail through smart hosts</label></div>
<div class="field"><label for="f-smartHosts">Smart hosts</label><input type="text" id="f-smartHosts" name="f.smartHosts" value="${d.smartHosts}" maxlength="${MAX_FIELD_CHARS}"${invalid("smartHosts", errors)}>
<p class="hint" id="hint-smartHosts">With smart hosts: host[:port], comma-separated, tried in order, e.g. smtp.contoso.com:587.</p>${fieldErrors("smartHosts", errors)}${fieldErrors("dnsRoutingEnabled", errors)}</div>
</fieldset>
<fieldset><legend>3. Address space</legend>
<p class="hint" id="hint-addressSpaces">The recipient domains this connector carries: "*" (all), "contoso.com" or "*.contoso.com"; cost 1 to 100, lowest wins among equally specific spaces.</p>
<table><caption class="sr-only">Address spaces</caption><thead><tr><th scope="col">Domain</th><th scope="col">Cost</th></tr></thead><tbody>
${spaces.map(
  (
    s,
    i,
  ) => html`<tr><td><label class="sr-only" for="as-${i}-domain">Address space ${i + 1} domain</label><input type="text" id="as-${i}-domain" name="as.${i}.domain" value="${s.domain}" maxlength="255"${invalid("addressSpaces", errors)}></td>
<td><label class="sr-only" for="as-${i}-cost">Address space ${i + 1} cost</label><input type="number" id="as-${i}-cost" name="as.${i}.cost" value="${s.cost}" min="1" max="100"></td></tr>`,
)}</tbody></table>
${fieldErrors("addressSpaces", errors)}
<p><button type="submit" name="step" value="add-space" class="secondary">Add an address space</button></p>
</fieldset>
<fieldset><legend>4. Source</legend>
<p class="hint">The receive connectors whose mail may use this connector; none ticked: all of them.</p>
${receive.length === 0 ? html`<p class="empty">No receive connectors yet.</p>` : ""}
${receive.map(
  (
    name,
    i,
  ) => html`<div class="field"><input type="checkbox" id="src-${i}" name="f.sourceListeners" value="${name}"${d.sources.includes(name) ? html` checked` : ""}>
<label for="src-${i}" class="inline">${name}</label></div>`,
)}
${fieldErrors("sourceListeners", errors)}
</fieldset>
<p><button type="submit" name="step" value="save">Save</button> <a class="button secondary" href="/send-connectors">Cancel</a></p>
</form>`;
  return reply(app, req, "New send connector", body, { status: errors.size > 0 ? 400 : 200 });
}

/** The draft as a record, with the CLI's parsers; what does not parse is reported under its field. */
function toRecord(d: Draft, errors: FieldErrors): Record<string, unknown> {
  const record: Record<string, unknown> = {
    kind: "SendConnector",
    name: d.name,
    usage: d.usage,
    dnsRoutingEnabled: d.routing === "mx",
    sourceListeners: d.sources,
  };
  const typed = d.spaces.filter((s) => s.domain.trim() !== "");
  try {
    record.addressSpaces = parseAddressSpaces(
      typed.map((s) => `${s.domain.trim()};${s.cost.trim() || "1"}`).join(","),
    );
  } catch (error) {
    addError(errors, "addressSpaces", (error as Error).message.replace(/^--address-spaces: /, ""));
  }
  if (d.routing === "smarthost")
    record.smartHosts = d.smartHosts
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean);
  return record;
}

export const WIZARD_ROUTES: ConsoleRoute[] = [
  {
    method: "GET",
    path: /^\/send-connectors\/new$/,
    handle: async (app, req) => {
      const receive = (await recordsOf(app, "ReceiveConnector")).map((r) => String(r.name));
      const draft: Draft = {
        name: "",
        usage: "Custom",
        routing: "mx",
        smartHosts: "",
        spaces: [],
        sources: [],
      };
      return wizard(app, req, draft, receive, new Map());
    },
  },
  {
    method: "POST",
    path: /^\/send-connectors\/new$/,
    handle: async (app, req) => {
      const receive = (await recordsOf(app, "ReceiveConnector")).map((r) => String(r.name));
      const draft = readDraft(req.form);
      const keep = draft.spaces;
      if (req.form.get("step") === "add-space")
        return wizard(
          app,
          req,
          { ...draft, spaces: [...keep, { domain: "", cost: "1" }] },
          receive,
          new Map(),
        );
      const errors: FieldErrors = new Map();
      const record = toRecord(draft, errors);
      if (await saveRecord(app, req, "SendConnector", record, undefined, errors))
        return redirect("/send-connectors");
      return wizard(app, req, { ...draft, spaces: keep }, receive, errors);
    },
  },
];
