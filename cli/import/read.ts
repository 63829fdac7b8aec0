// Reading a ConvertTo-Json export: any of PowerShell's encodings, one object or a list, and errors that name the file, line and column.
import { readFile, stat } from "node:fs/promises";
import { UsageError } from "../errors.ts";

/** Far above any organisation's connector list; a bigger file is not what the README's commands write. */
export const MAX_EXPORT_BYTES = 32 * 1024 * 1024;

/**
 * Windows PowerShell's `>` writes UTF-16LE with a byte order mark, Out-File -Encoding utf8 writes
 * a UTF-8 one, PowerShell 7 writes UTF-8 without: all are read.
 */
export function decodeExport(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString("utf16le");
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2));
    swapped.swap16();
    return swapped.toString("utf16le");
  }
  const text = bytes.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split("\n");
  return { line: lines.length, column: (lines[lines.length - 1] ?? "").length + 1 };
}

/** Parses the text; a syntax error becomes a UsageError naming the file and line:column. */
export function parseExport(file: string, text: string): Record<string, unknown>[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    // V8 names the offending offset ("... at position 41 (line 3 column 7)"); at the end of a
    // truncated file it says "Unexpected end of JSON input" and the position is the end.
    const at = /position (\d+)/.exec(message);
    const offset = at?.[1] !== undefined ? Number(at[1]) : text.length;
    const { line, column } = lineColumn(text, offset);
    const what =
      offset >= text.trimEnd().length
        ? "the JSON ends early (truncated?)"
        : message.replace(/\s*(?:in JSON )?at position \d+.*$/s, "");
    throw new UsageError(`${file}:${line}:${column}: not valid JSON: ${what}`);
  }
  // ConvertTo-Json writes one object for one result, a list for several; a remote session may wrap
  // the list as { "value": [...], "Count": n }.
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const inner = (value as Record<string, unknown>).value;
    value = Array.isArray(inner) ? inner : [value];
  }
  if (!Array.isArray(value))
    throw new UsageError(
      `${file}: expected the output of ConvertTo-Json (an object or a list of objects), found ${JSON.stringify(value)?.slice(0, 40)}`,
    );
  value.forEach((v, i) => {
    if (v === null || typeof v !== "object" || Array.isArray(v))
      throw new UsageError(
        `${file}: item ${i} is not an object (${JSON.stringify(v)?.slice(0, 40)}); export with ConvertTo-Json -Depth 5`,
      );
  });
  return value as Record<string, unknown>[];
}

export async function readExport(file: string): Promise<Record<string, unknown>[]> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw new UsageError(
      `${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  if (size > MAX_EXPORT_BYTES)
    throw new UsageError(
      `${file}: ${size} bytes is over the ${MAX_EXPORT_BYTES / 1024 ** 2} MB an export can be; is it the right file?`,
    );
  return parseExport(file, decodeExport(await readFile(file)));
}
