// Command-line flags derived from a record's zod schema: one flag per field, typed, with its default.
//
// The schema is the one source of truth: a field added to a record schema gets a flag (kebab-case
// of its name) with no change here, and `--help` and shell completion list it.
import type { z } from "zod";
import { recordMeta } from "#core/records/common.ts";
import { bytes, int, list, num, seconds } from "./args.ts";
import { UsageError } from "./errors.ts";

export type FlagType = "bool" | "text" | "int" | "number" | "size" | "choice" | "list" | "json";

export interface FieldFlag {
  flag: string;
  field: string;
  type: FlagType;
  /** How the value is written, for --help: "int", "size", "None|Verbose", "list of host[:port]". */
  hint: string;
  /** Values an admin may give (enums), for --help and completion. */
  choices?: string[];
  /** The schema's default, as an admin would type it. */
  default?: string;
  /** A new record needs it (no default, not optional). */
  required: boolean;
  description?: string;
  /** Flag value → field value; throws UsageError naming the flag and the field. */
  parse(value: string | boolean): unknown;
}

/** A parser for a field whose value is not a plain scalar or list (e.g. address spaces). */
export interface CustomField {
  hint: string;
  parse(value: string, flag: string): unknown;
  format?(value: unknown): string;
}

export interface DeriveOptions {
  /** Flag names that differ from the kebab-case field name (kept from earlier releases). */
  rename?: Record<string, string>;
  /** Fields with no flag of their own (written by a prompt or another flag), each with why. */
  skip?: Record<string, string>;
  custom?: Record<string, CustomField>;
}

/** Fields written by the stores or fixed by the kind: never flags. */
export const META_FIELDS = ["kind", ...Object.keys(recordMeta)];

export const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

// The parts of zod 4's definition object read here (stable across 4.x: `_zod.def`).
interface Def {
  type: string;
  innerType?: Schema;
  element?: Schema;
  entries?: Record<string, string>;
  values?: unknown[];
  options?: Schema[];
  in?: Schema;
  defaultValue?: unknown;
}
type Schema = { _zod: { def: Def }; isInt?: boolean; description?: string };

/** Strips optional/default/nullable wrappers, noting the default and whether the field may be absent. */
function unwrap(schema: Schema): { core: Schema; optional: boolean; defaultValue?: unknown } {
  let s = schema;
  let optional = false;
  let defaultValue: unknown;
  for (;;) {
    const d = s._zod.def;
    if (d.type === "default" || d.type === "prefault") {
      defaultValue = d.defaultValue;
      optional = true;
    } else if (d.type === "optional" || d.type === "nullable") optional = true;
    else if (d.type === "pipe" && d.in) {
      s = d.in;
      continue;
    } else if (d.type !== "readonly" && d.type !== "catch") break;
    if (!d.innerType) break;
    s = d.innerType;
  }
  return { core: s, optional, ...(defaultValue !== undefined ? { defaultValue } : {}) };
}

const isSize = (field: string) => /(Size|Bytes)$/.test(field);

function sizeText(n: number): string {
  for (const [unit, m] of [
    ["GB", 1024 ** 3],
    ["MB", 1024 ** 2],
    ["KB", 1024],
  ] as const)
    if (n >= m && n % m === 0) return `${n / m}${unit}`;
  return String(n);
}

function durationText(n: number): string {
  for (const [unit, m] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const)
    if (n >= m && n % m === 0) return `${n / m}${unit}`;
  return `${n}s`;
}

/** A scalar's flag type and parser (one list item, or the whole value). */
function scalar(
  field: string,
  s: Schema,
): {
  type: FlagType;
  hint: string;
  choices?: string[];
  parse: (flag: string, v: string) => unknown;
} {
  const d = s._zod.def;
  switch (d.type) {
    case "number":
      if (isSize(field)) return { type: "size", hint: "size", parse: bytes };
      if (/Seconds$/.test(field) && s.isInt)
        return { type: "int", hint: "seconds|15m|4h|2d", parse: seconds };
      return s.isInt
        ? { type: "int", hint: "int", parse: int }
        : { type: "number", hint: "number", parse: num };
    case "enum":
    case "literal": {
      const choices = (d.type === "enum" ? Object.values(d.entries ?? {}) : (d.values ?? [])).map(
        String,
      );
      // Exchange's parameters are case-insensitive: "internet" is Internet.
      const parse = (_flag: string, v: string) =>
        choices.find((c) => c.toLowerCase() === v.trim().toLowerCase()) ?? v;
      return { type: "choice", hint: choices.join("|"), choices, parse };
    }
    case "union": {
      const parts = (d.options ?? []).map((o) => scalar(field, unwrap(o).core));
      const choices = parts.flatMap((p) => p.choices ?? []);
      const numeric = parts.find(
        (p) => p.type === "int" || p.type === "number" || p.type === "size",
      );
      const parse = (flag: string, v: string) => {
        const named = choices.find((c) => c.toLowerCase() === v.trim().toLowerCase());
        if (named !== undefined) return named;
        if (numeric && (/^[\d.]/.test(v.trim()) || !parts.some((p) => p.type === "text")))
          return numeric.parse(flag, v);
        return v;
      };
      return {
        type: numeric && choices.length ? "choice" : "text",
        hint: parts.map((p) => p.hint).join("|"),
        ...(choices.length ? { choices } : {}),
        parse,
      };
    }
    case "string":
      return { type: "text", hint: "text", parse: (_f, v) => v };
    default:
      // Objects and anything newer: JSON, which the schema then validates.
      return {
        type: "json",
        hint: "JSON",
        parse: (flag, v) => {
          try {
            return JSON.parse(v);
          } catch {
            throw new UsageError(`--${flag}: "${v}" is not JSON`);
          }
        },
      };
  }
}

function formatDefault(field: string, value: unknown, custom?: CustomField): string | undefined {
  if (value === undefined) return undefined;
  if (custom?.format) return custom.format(value);
  if (Array.isArray(value))
    return value.length === 0 ? "(none)" : value.map((v) => formatDefault(field, v)).join(",");
  if (typeof value === "number" && isSize(field)) return sizeText(value);
  if (typeof value === "number" && /Seconds$/.test(field)) return durationText(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Puts the field's name beside the flag's in a conversion error: "--port (port): ...". */
function namingField(flag: string, field: string, parse: () => unknown): unknown {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(error.message.replace(`--${flag}:`, `--${flag} (${field}):`));
  }
}

/** One flag per field of `schema` except the meta fields and `options.skip`. */
export function deriveFlags(schema: z.ZodObject, options: DeriveOptions = {}): FieldFlag[] {
  const flags: FieldFlag[] = [];
  for (const [field, raw] of Object.entries(schema.shape as Record<string, Schema>)) {
    if (META_FIELDS.includes(field) || options.skip?.[field] !== undefined) continue;
    const flag = options.rename?.[field] ?? kebab(field);
    const { core, optional, defaultValue } = unwrap(raw);
    const custom = options.custom?.[field];
    const description = raw.description ?? core.description;
    const base = {
      flag,
      field,
      required: !optional,
      ...(description ? { description } : {}),
    };
    const def = formatDefault(field, defaultValue, custom);
    const withDefault = def !== undefined ? { default: def } : {};
    if (custom) {
      flags.push({
        ...base,
        ...withDefault,
        type: "text",
        hint: custom.hint,
        parse: (v) => namingField(flag, field, () => custom.parse(String(v), flag)),
      });
      continue;
    }
    if (core._zod.def.type === "boolean") {
      flags.push({ ...base, ...withDefault, type: "bool", hint: "bool", parse: (v) => v === true });
      continue;
    }
    if (core._zod.def.type === "array" && core._zod.def.element) {
      const item = scalar(field, unwrap(core._zod.def.element).core);
      if (item.type === "json") {
        flags.push({
          ...base,
          ...withDefault,
          type: "json",
          hint: "JSON array",
          parse: (v) => namingField(flag, field, () => item.parse(flag, String(v))),
        });
        continue;
      }
      flags.push({
        ...base,
        ...withDefault,
        type: "list",
        hint: `list of ${item.hint}`,
        ...(item.choices ? { choices: item.choices } : {}),
        parse: (v) =>
          namingField(flag, field, () => list(String(v)).map((x) => item.parse(flag, x))),
      });
      continue;
    }
    const one = scalar(field, core);
    // An optional limit without a default is cleared with Exchange's "Unlimited"
    // (Set-ReceiveConnector -MessageRateLimit Unlimited).
    const limit =
      optional && defaultValue === undefined && ["int", "number", "size"].includes(one.type);
    flags.push({
      ...base,
      ...withDefault,
      type: one.type,
      hint: limit ? `${one.hint}|Unlimited` : one.hint,
      ...(one.choices ? { choices: one.choices } : {}),
      parse: (v) =>
        limit && /^unlimited$/i.test(String(v).trim())
          ? undefined
          : namingField(flag, field, () => one.parse(flag, String(v))),
    });
  }
  return flags;
}
