// Mail flow record pages (Send connectors, Receive connectors, Accepted domains, Users): list, new, edit, remove with confirmation; fields from the record schema.
import { fieldFlags, type KindSpec, RECORD_SPECS } from "#cli/commands/record-specs.ts";
import type { CustomField } from "#cli/record-flags.ts";
import { hashPassword } from "#core/auth/password.ts";
import { RECORD_ID_FIELD } from "#core/records/index.ts";
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
  MAX_FIELD_CHARS,
  readFields,
  recordForm,
} from "../forms.ts";
import { type Html, html, path, table } from "../html.ts";
import { csrfField } from "../layout.ts";
import { recordsOf, removeRecord, saveRecord } from "../records.ts";

export interface KindPage {
  slug: string;
  title: string;
  singular: string;
  spec: KindSpec;
  /** Users: a password to set (never shown). */
  password?: boolean;
}

const spec = (noun: string): KindSpec => RECORD_SPECS[noun] as KindSpec;

export const KIND_PAGES: KindPage[] = [
  {
    slug: "send-connectors",
    title: "Send connectors",
    singular: "send connector",
    spec: spec("send-connector"),
  },
  {
    slug: "receive-connectors",
    title: "Receive connectors",
    singular: "receive connector",
    spec: spec("receive-connector"),
  },
  {
    slug: "accepted-domains",
    title: "Accepted domains",
    singular: "accepted domain",
    spec: spec("accepted-domain"),
  },
  { slug: "users", title: "Users", singular: "user", spec: spec("user"), password: true },
];

/** How a field's stored value is written in its input: the CLI's own formatter where it has one. */
function formatters(k: KindPage): Record<string, (v: unknown) => string> {
  const custom = (k.spec.derive.custom ?? {}) as Record<string, CustomField>;
  return Object.fromEntries(
    Object.entries(custom).flatMap(([field, c]) => (c.format ? [[field, c.format]] : [])),
  );
}

function passwordFields(required: boolean, errors: FieldErrors): Html {
  return html`<fieldset><legend>${required ? "Password" : "Set a password"}</legend>
<p class="hint">Stored as an scrypt hash; the console never shows a password.${required ? "" : " Leave empty to keep the current one."}</p>
<div class="field"><label for="f-password">New password</label><input type="password" id="f-password" name="password" autocomplete="new-password" maxlength="${MAX_FIELD_CHARS}"${required ? html` required` : ""}></div>
<div class="field"><label for="f-confirm">Confirm password</label><input type="password" id="f-confirm" name="confirm" autocomplete="new-password" maxlength="${MAX_FIELD_CHARS}"></div>
${fieldErrors("passwordHash", errors)}</fieldset>`;
}

async function applyPassword(
  form: URLSearchParams,
  record: Record<string, unknown>,
  isNew: boolean,
  errors: FieldErrors,
) {
  const password = form.get("password") ?? "";
  if (password === "") {
    if (isNew) addError(errors, "passwordHash", "a new user needs a password");
    return;
  }
  if (password !== form.get("confirm")) {
    addError(errors, "passwordHash", "the two passwords differ");
    return;
  }
  record.passwordHash = await hashPassword(password);
}

function listPage(
  app: ConsoleApp,
  req: ConsoleRequest,
  k: KindPage,
  all: Record<string, unknown>[],
) {
  const idField = RECORD_ID_FIELD[k.spec.kind];
  const ids = all.map((r) => String(r[idField]));
  const actions = (i: number) => {
    const id = ids[i] ?? "";
    return html`<a href="${path(k.slug, "edit", id)}">Edit<span class="sr-only"> ${id}</span></a> · <a href="${path(k.slug, "remove", id)}">Remove<span class="sr-only"> ${id}</span></a>`;
  };
  const body = html`<p><a class="button" href="/${k.slug}/new">New ${k.singular}</a></p>
${table(k.title, k.spec.columns, all.map(k.spec.row), actions)}`;
  return reply(app, req, k.title, body);
}

export function editPage(
  app: ConsoleApp,
  req: ConsoleRequest,
  k: KindPage,
  values: Record<string, unknown>,
  errors: FieldErrors,
  id?: string,
) {
  const isNew = id === undefined;
  const idField = RECORD_ID_FIELD[k.spec.kind];
  const action = isNew ? `/${k.slug}/new` : path(k.slug, "edit", id);
  const title = isNew ? `New ${k.singular}` : `Edit ${k.singular} ${id}`;
  const body = recordForm(action, req.csrf, fieldFlags(k.spec), values, errors, {
    readOnly: isNew ? [] : [idField],
    format: formatters(k),
    ...(k.password ? { extra: passwordFields(isNew, errors) } : {}),
    submit: "Save",
  });
  return reply(app, req, title, body, { status: errors.size > 0 ? 400 : 200 });
}

async function submit(app: ConsoleApp, req: ConsoleRequest, k: KindPage, id?: string) {
  const before =
    id === undefined
      ? undefined
      : ((await app.ctx.records.get(k.spec.kind, id)) as Record<string, unknown> | undefined);
  if (id !== undefined && !before) return redirect(`/${k.slug}`);
  const record: Record<string, unknown> = { ...(before ?? { kind: k.spec.kind }) };
  const errors: FieldErrors = new Map();
  const idField = RECORD_ID_FIELD[k.spec.kind];
  const flags = fieldFlags(k.spec).filter((f) => id === undefined || f.field !== idField);
  readFields(flags, req.form, record, errors);
  if (k.password) await applyPassword(req.form, record, id === undefined, errors);
  if (await saveRecord(app, req, k.spec.kind, record, before, errors))
    return redirect(`/${k.slug}`);
  // Shown again as typed, so the admin corrects rather than retypes (the password excepted).
  const typed: Record<string, unknown> = { ...record };
  for (const f of flags) {
    const raw = req.form.get(`f.${f.field}`);
    if (raw !== null && f.type !== "bool") typed[f.field] = raw.slice(0, MAX_FIELD_CHARS);
  }
  return editPage(app, req, k, typed, errors, id);
}

function confirmPage(app: ConsoleApp, req: ConsoleRequest, k: KindPage, id: string) {
  const body = html`<form method="post" action="${path(k.slug, "remove", id)}">${csrfField(req.csrf)}
<p>Remove the ${k.singular} <strong>${id}</strong>? This cannot be undone.</p>
<p><button type="submit" class="danger">Remove</button> <a class="button secondary" href="/${k.slug}">Cancel</a></p></form>`;
  return reply(app, req, `Remove ${k.singular}`, body);
}

const ID = "(.+)";

export function kindRoutes(k: KindPage, options: { customNew?: boolean } = {}): ConsoleRoute[] {
  const base = `^/${k.slug}`;
  const routes: ConsoleRoute[] = [
    {
      method: "GET",
      path: new RegExp(`${base}$`),
      handle: async (app, req) => listPage(app, req, k, await recordsOf(app, k.spec.kind)),
    },
    {
      method: "GET",
      path: new RegExp(`${base}/edit/${ID}$`),
      handle: async (app, req, [id = ""]) => {
        const r = (await app.ctx.records.get(k.spec.kind, id)) as
          | Record<string, unknown>
          | undefined;
        return r ? editPage(app, req, k, r, new Map(), id) : redirect(`/${k.slug}`);
      },
    },
    {
      method: "POST",
      path: new RegExp(`${base}/edit/${ID}$`),
      handle: (app, req, [id = ""]) => submit(app, req, k, id),
    },
    {
      method: "GET",
      path: new RegExp(`${base}/remove/${ID}$`),
      handle: async (app, req, [id = ""]) => confirmPage(app, req, k, id),
    },
    {
      method: "POST",
      path: new RegExp(`${base}/remove/${ID}$`),
      handle: async (app, req, [id = ""]) => {
        await removeRecord(app, req, k.spec.kind, id);
        return redirect(`/${k.slug}`);
      },
    },
  ];
  if (!options.customNew)
    routes.push(
      {
        method: "GET",
        path: new RegExp(`${base}/new$`),
        handle: async (app, req) => editPage(app, req, k, { kind: k.spec.kind }, new Map()),
      },
      {
        method: "POST",
        path: new RegExp(`${base}/new$`),
        handle: (app, req) => submit(app, req, k),
      },
    );
  return routes;
}
