// HTML for the console: one tagged template that escapes every interpolated value, so no page builds markup by hand.

/** Markup that is already safe: made by `html` itself, never from a raw string of outside origin. */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

/** Text for an element's content or a quoted attribute value. */
export const escapeHtml = (value: string): string =>
  value.replace(/[&<>"'`]/g, (c) => ENTITIES[c] ?? c);

function piece(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (value === undefined || value === null || value === false) return "";
  if (Array.isArray(value)) return value.map(piece).join("");
  return escapeHtml(String(value));
}

/**
 * `html\`<td>${name}</td>\`` escapes `name`; nested `html` results and arrays of them are kept
 * as they are; undefined, null and false render as nothing (`${cond && html\`...\`}`).
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += piece(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

/** A value as a table cell shows it: lists joined, objects as JSON, nothing for absent. */
export function cellText(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (Array.isArray(v)) return v.map(cellText).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** A table of rows under the given column names (Exchange's Format-Table, as the CLI prints it). */
export function table(
  caption: string,
  columns: string[],
  rows: Record<string, unknown>[],
  extra?: (row: number) => Html,
): Html {
  if (rows.length === 0) return html`<p class="empty">${caption}: none.</p>`;
  return html`<table>
  <caption>${caption}</caption>
  <thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}${extra && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
  <tbody>${rows.map((r, i) => html`<tr>${columns.map((c) => html`<td>${cellText(r[c])}</td>`)}${extra && html`<td class="actions">${extra(i)}</td>`}</tr>`)}</tbody>
</table>`;
}

/** A path with its parts encoded: `/send-connectors/${name}` for any name. */
export const path = (...parts: string[]): string =>
  `/${parts.map((p) => encodeURIComponent(p)).join("/")}`;
