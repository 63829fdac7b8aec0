// Record forms derived from the same field flags as the CLI: one input per schema field, the CLI's parsers, the schema's messages next to each field.
import type { FieldFlag } from "#cli/record-flags.ts";
import type { RecordProblem } from "#core/records/index.ts";
import { type Html, html } from "./html.ts";
import { csrfField } from "./layout.ts";

/** Field name → the messages to show beside it; "" holds those of the record as a whole. */
export type FieldErrors = Map<string, string[]>;

/** Longest value a text input takes: a connector name is 64, a list of ranges a few hundred. */
export const MAX_FIELD_CHARS = 4096;

export function addError(errors: FieldErrors, field: string, message: string): void {
  errors.set(field, [...(errors.get(field) ?? []), message]);
}

/**
 * The schema's problems under the top-level field they concern. The text is the CLI's: the
 * field's path (as in `addressSpaces[0].domain`) and the schema's message.
 */
export function problemsByField(
  problems: RecordProblem[],
  errors: FieldErrors = new Map(),
): FieldErrors {
  for (const p of problems) {
    const top = p.field.split(/[.[]/)[0] ?? "";
    addError(errors, top, p.field && p.field !== top ? `${p.field}: ${p.message}` : p.message);
  }
  return errors;
}

/** A stored value as the admin would type it for this flag (the CLI's syntax). */
export function formText(ff: FieldFlag, value: unknown, format?: (v: unknown) => string): string {
  if (value === undefined || value === null) return "";
  if (format) return format(value);
  if (ff.type === "json") return JSON.stringify(value);
  if (Array.isArray(value))
    return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(",");
  return String(value);
}

/**
 * Applies the submitted fields to `record` with each flag's parser. An empty optional field goes
 * back to its default; a value that does not parse is reported under its field and left out.
 */
export function readFields(
  flags: FieldFlag[],
  form: URLSearchParams,
  record: Record<string, unknown>,
  errors: FieldErrors,
): void {
  for (const ff of flags) {
    if (ff.type === "bool") {
      if (form.has(`present.${ff.field}`)) record[ff.field] = form.get(`f.${ff.field}`) === "on";
      continue;
    }
    const raw = form.get(`f.${ff.field}`);
    if (raw === null) continue;
    if (raw.length > MAX_FIELD_CHARS) {
      addError(errors, ff.field, `longer than ${MAX_FIELD_CHARS} characters`);
      continue;
    }
    if (raw.trim() === "") {
      delete record[ff.field];
      continue;
    }
    try {
      const value = ff.parse(raw);
      if (value === undefined) delete record[ff.field];
      else record[ff.field] = value;
    } catch (error) {
      // The CLI's message names the flag; beside the field the flag is noise.
      addError(
        errors,
        ff.field,
        (error as Error).message.replace(/^--[\w-]+ \([^)]*\): |^--[\w-]+: /, ""),
      );
    }
  }
}

const errorId = (field: string) => `err-${field}`;

/** The messages for a field, announced and tied to its input by aria-describedby. */
export const fieldErrors = (field: string, errors: FieldErrors): Html =>
  html`${(errors.get(field) ?? []).length > 0 && html`<div id="${errorId(field)}">${(errors.get(field) ?? []).map((m) => html`<p class="error">${m}</p>`)}</div>`}`;

export const invalid = (field: string, errors: FieldErrors): Html =>
  errors.has(field)
    ? html` aria-invalid="true" aria-describedby="${errorId(field)} hint-${field}"`
    : html` aria-describedby="hint-${field}"`;

/** One labelled input for a field flag, with its hint and its errors. */
export function fieldInput(
  ff: FieldFlag,
  value: unknown,
  errors: FieldErrors,
  options: { format?: (v: unknown) => string; readOnly?: boolean; label?: string } = {},
): Html {
  const id = `f-${ff.field}`;
  const name = `f.${ff.field}`;
  const label = options.label ?? ff.field;
  const hint = html`<p class="hint" id="hint-${ff.field}">${ff.description ?? ""}${ff.description ? " " : ""}(${ff.hint}${ff.default !== undefined ? `; default ${ff.default}` : ""})</p>`;
  if (ff.type === "bool") {
    const checked = (value ?? ff.default === "true") === true;
    return html`<div class="field"><input type="hidden" name="present.${ff.field}" value="1">
<input type="checkbox" id="${id}" name="${name}"${checked ? html` checked` : ""}${invalid(ff.field, errors)}>
<label for="${id}" class="inline">${label}</label>${hint}${fieldErrors(ff.field, errors)}</div>`;
  }
  const text =
    typeof value === "string" && !ff.choices ? value : formText(ff, value, options.format);
  if (
    ff.type === "choice" &&
    ff.choices &&
    !ff.hint.includes("|Unlimited") &&
    !/int|size|number/.test(ff.hint)
  ) {
    return html`<div class="field"><label for="${id}">${label}</label>
<select id="${id}" name="${name}"${invalid(ff.field, errors)}><option value=""${text === "" ? html` selected` : ""}>(default${ff.default ? `: ${ff.default}` : ""})</option>
${ff.choices.map((c) => html`<option${c === text ? html` selected` : ""}>${c}</option>`)}</select>${hint}${fieldErrors(ff.field, errors)}</div>`;
  }
  return html`<div class="field"><label for="${id}">${label}</label>
<input type="text" id="${id}" name="${name}" value="${text}" maxlength="${MAX_FIELD_CHARS}"${options.readOnly ? html` readonly` : ""}${ff.required ? html` required` : ""}${invalid(ff.field, errors)}>${hint}${fieldErrors(ff.field, errors)}</div>`;
}

/** A whole record form: every field flag, the record-level errors on top. */
export function recordForm(
  action: string,
  csrf: string,
  flags: FieldFlag[],
  values: Record<string, unknown>,
  errors: FieldErrors,
  options: {
    readOnly?: string[];
    format?: Record<string, (v: unknown) => string>;
    extra?: Html;
    submit: string;
  },
): Html {
  return html`${summary(errors)}<form method="post" action="${action}" novalidate>
${csrfField(csrf)}
${flags.map((ff) => {
  const format = options.format?.[ff.field];
  return fieldInput(ff, values[ff.field], errors, {
    ...(format ? { format } : {}),
    readOnly: options.readOnly?.includes(ff.field) ?? false,
  });
})}
${options.extra}
<p><button type="submit">${options.submit}</button> <a class="button secondary" href="${action.replace(/\/(new|edit\/.*)$/, "")}">Cancel</a></p>
</form>`;
}

/** "Nothing was saved" with every message, at the top (screen readers hear it first). */
export function summary(errors: FieldErrors): Html {
  if (errors.size === 0) return html``;
  const all = [...errors].flatMap(([f, ms]) =>
    ms.map((m) => (f && !m.startsWith(f) ? `${f}: ${m}` : m)),
  );
  return html`<div class="problems" role="alert"><p><strong>Nothing was saved.</strong> Fix these and save again:</p><ul>${all.map((m) => html`<li>${m}</li>`)}</ul></div>`;
}
