// The shapes of the CLI's command table (nouns, verbs, flags) and the helpers that build its entries.
import type { FieldFlag } from "../record-flags.ts";

export interface FlagDoc {
  flag: string;
  /** How the value is written: "text", "int", "size", "A|B", "list of ..."; "bool" takes no value. */
  hint: string;
  description?: string;
  default?: string;
  choices?: string[];
  required?: boolean;
}

export interface VerbDoc {
  summary: string;
  flags: FlagDoc[];
  /** A positional argument, e.g. "ID" or "DOMAIN". */
  positional?: string;
  example: string;
}

export interface NounDoc {
  summary: string;
  /** Verbs; a noun without verbs (track, resolve-mx, doctor) has the single verb "". */
  verbs: Record<string, VerbDoc>;
}

export const flag = (
  name: string,
  hint: string,
  description: string,
  more: Partial<FlagDoc> = {},
) => ({
  flag: name,
  hint,
  description,
  ...more,
});
export const bool = (name: string, description: string) => flag(name, "bool", description);

export const fromField = (ff: FieldFlag, required = false): FlagDoc => ({
  flag: ff.flag,
  hint: ff.hint,
  ...(ff.description ? { description: ff.description } : {}),
  ...(ff.default !== undefined ? { default: ff.default } : {}),
  ...(ff.choices ? { choices: ff.choices } : {}),
  ...(required ? { required } : {}),
});
