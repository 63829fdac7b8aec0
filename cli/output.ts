// Output for humans (aligned tables, like Exchange's Format-Table) and for machines (--json).

export interface Out {
  json: boolean;
  write(text: string): void;
}

export const stdout: Out = { json: false, write: (t) => process.stdout.write(t) };

function cell(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (Array.isArray(v)) return v.map(cell).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Prints rows as a table with the given columns (header = column name), or as JSON when --json. */
export function printTable(
  out: Out,
  rows: Record<string, unknown>[],
  columns: string[],
  jsonValue: unknown = rows,
): void {
  if (out.json) {
    out.write(`${JSON.stringify(jsonValue, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    out.write("(none)\n");
    return;
  }
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) =>
    Math.max(c.length, ...cells.map((row) => (row[i] ?? "").length)),
  );
  const line = (vals: string[]) =>
    `${vals.map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join("  ")}\n`;
  out.write(line(columns));
  out.write(line(widths.map((w) => "-".repeat(w))));
  for (const row of cells) out.write(line(row));
}

/** Prints one object as "Name : value" lines (Format-List), or JSON. */
export function printRecord(out: Out, record: Record<string, unknown>): void {
  if (out.json) {
    out.write(`${JSON.stringify(record, null, 2)}\n`);
    return;
  }
  const keys = Object.keys(record);
  const width = Math.max(...keys.map((k) => k.length));
  for (const k of keys) out.write(`${k.padEnd(width)} : ${cell(record[k])}\n`);
}

export function printMessage(
  out: Out,
  text: string,
  json: Record<string, unknown> = { ok: true, message: text },
): void {
  out.write(out.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
}
