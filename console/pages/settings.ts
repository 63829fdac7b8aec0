// Transport settings (Get-/Set-TransportConfig) and DKIM signing configs with the DNS records to publish.
import { dkimCommand, dkimView } from "#cli/commands/dkim.ts";
import { TRANSPORT_FLAGS } from "#cli/commands/transport-config.ts";
import { parseRecordOf } from "#core/records/index.ts";
import {
  type ConsoleApp,
  type ConsoleRequest,
  type ConsoleRoute,
  cliJson,
  redirect,
  reply,
} from "../app.ts";
import {
  addError,
  type FieldErrors,
  fieldErrors,
  invalid,
  readFields,
  recordForm,
} from "../forms.ts";
import { html, table } from "../html.ts";
import { csrfField } from "../layout.ts";
import { saveRecord } from "../records.ts";

const KEY = { kind: "TransportSettings", name: "default" };
const retryFormat = (v: unknown) =>
  (v as Array<{ intervalSeconds: number; count: number }>)
    .map((s) => `${s.intervalSeconds}x${s.count}`)
    .join(",");

async function transportPage(
  app: ConsoleApp,
  req: ConsoleRequest,
  values?: Record<string, unknown>,
  errors: FieldErrors = new Map(),
) {
  const stored = (await app.ctx.records.get(KEY.kind, KEY.name)) as
    | Record<string, unknown>
    | undefined;
  const body = html`<p>Organisation-wide settings: retry schedule, expiry, delay notices, egress IPs. Empty fields use the default shown.</p>
${recordForm("/transport-settings", req.csrf, TRANSPORT_FLAGS, values ?? stored ?? KEY, errors, { format: { retrySchedule: retryFormat }, submit: "Save" })}`;
  return reply(app, req, "Transport settings", body, { status: errors.size > 0 ? 400 : 200 });
}

async function saveTransport(app: ConsoleApp, req: ConsoleRequest) {
  const stored = (await app.ctx.records.get(KEY.kind, KEY.name)) as
    | Record<string, unknown>
    | undefined;
  const record: Record<string, unknown> = { ...(stored ?? KEY) };
  const errors: FieldErrors = new Map();
  readFields(TRANSPORT_FLAGS, req.form, record, errors);
  // An absent record is created here: there is only ever the one, named "default".
  if (await saveRecord(app, req, "TransportSettings", record, stored ?? {}, errors))
    return redirect("/transport-settings");
  const typed: Record<string, unknown> = { ...record };
  for (const f of TRANSPORT_FLAGS) {
    const raw = req.form.get(`f.${f.field}`);
    if (raw !== null && f.type !== "bool") typed[f.field] = raw;
  }
  return transportPage(app, req, typed, errors);
}

async function dkimPage(
  app: ConsoleApp,
  req: ConsoleRequest,
  errors: FieldErrors = new Map(),
  typed = "",
) {
  const configs = (await app.ctx.records.list())
    .map((r) => parseRecordOf("DkimSigningConfig", r))
    .flatMap((p) => (p.ok ? [dkimView(p.record)] : []));
  const list = configs.map(
    (
      v,
    ) => html`<h2>${v.domain}</h2><p>${v.enabled ? "Signing" : "Not signing"} with selector ${v.selector ?? ""} (${v.keyType}). Publish:</p>
${table(
  `DNS records for ${v.domain}`,
  ["Name", "Type", "Value", "Status"],
  v.dnsRecords.map((r) => ({ Name: r.name, Type: r.type, Value: r.value, Status: r.status })),
)}`,
  );
  const body = html`${configs.length === 0 ? html`<p class="empty">No DKIM signing configs yet.</p>` : list}
<h2>New DKIM signing config</h2>
<form method="post" action="/dkim">${csrfField(req.csrf)}
<div class="field"><label for="f-domain">Domain</label><input type="text" id="f-domain" name="domain" value="${typed}" maxlength="253" required${invalid("domain", errors)}>
<p class="hint" id="hint-domain">A key pair is made (RSA 2048); the private key is kept as a secret and never shown.</p>${fieldErrors("domain", errors)}</div>
<p><button type="submit">Create</button></p></form>`;
  return reply(app, req, "DKIM signing", body, { status: errors.size > 0 ? 400 : 200 });
}

async function newDkim(app: ConsoleApp, req: ConsoleRequest) {
  const domain = (req.form.get("domain") ?? "").trim().slice(0, 253);
  let made: { config?: unknown };
  try {
    // The CLI's verb itself: the same key generation, secret naming and checks.
    made = await cliJson((out) => dkimCommand(app.ctx, out, "new", ["--domain", domain, "--json"]));
  } catch (error) {
    const errors: FieldErrors = new Map();
    addError(
      errors,
      "domain",
      (error as Error).message.replace(/^relay dkim-signing-config new: /, ""),
    );
    return dkimPage(app, req, errors, domain);
  }
  app.audit(req, "create", `DkimSigningConfig "${domain}"`, undefined, made.config);
  req.flash(`Created the DKIM signing config of ${domain}; publish its DNS record below.`);
  return redirect("/dkim");
}

export const SETTINGS_ROUTES: ConsoleRoute[] = [
  { method: "GET", path: /^\/transport-settings$/, handle: (app, req) => transportPage(app, req) },
  { method: "POST", path: /^\/transport-settings$/, handle: saveTransport },
  { method: "GET", path: /^\/dkim$/, handle: (app, req) => dkimPage(app, req) },
  { method: "POST", path: /^\/dkim$/, handle: newDkim },
];
