// Flag parsing for the CLI on node:util parseArgs: kebab-case flags, strict, errors that name the flag.
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

export type Flags = Record<string, string | boolean | undefined>;

/** Options every command takes. */
export const COMMON_OPTIONS: ParseArgsOptionsConfig = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  home: { type: "string" },
  aws: { type: "boolean" },
  region: { type: "string" },
  stack: { type: "string" },
};

/** Flags that would put a secret on the command line (and in shell history): refused with the way to do it. */
const SECRET_FLAGS = new Set(["password", "auth-password", "secret"]);

export function parseFlags(
  command: string,
  args: string[],
  options: ParseArgsOptionsConfig,
): Flags {
  for (const a of args) {
    const name = a.replace(/^--?/, "").split("=")[0] ?? "";
    if (a.startsWith("-") && SECRET_FLAGS.has(name)) {
      throw new UsageError(
        `--${name} is not accepted: passwords never go on the command line; set RELAY_PASSWORD in the environment or type it at the prompt`,
      );
    }
  }
  try {
    const { values } = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    });
    return values as Flags;
  } catch (error) {
    const msg = (error as Error).message
      .replace(/\. To specify a positional argument.*$/s, "")
      .replace(/^Unknown option '(.*)'$/, "unknown option $1");
    throw new UsageError(`relay ${command}: ${msg}; see relay ${command} --help`);
  }
}

export function str(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
}

export function requireStr(command: string, flags: Flags, name: string): string {
  const v = str(flags, name);
  if (v === undefined || v.trim() === "")
    throw new UsageError(`relay ${command}: --${name} is required`);
  return v;
}

/** "a,b; c" → ["a", "b", "c"]; commas or semicolons separate, blanks dropped. */
export function list(value: string): string[] {
  return value
    .split(/[,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** "35MB", "36 MB", "512KB", "1048576" → bytes. */
export function bytes(flag: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$/i.exec(value);
  if (!m)
    throw new UsageError(
      `--${flag}: "${value}" is not a size; use bytes or a number with KB, MB or GB, e.g. 35MB`,
    );
  const unit = (m[2] ?? "B").toUpperCase();
  const mult = unit === "GB" ? 1024 ** 3 : unit === "MB" ? 1024 ** 2 : unit === "KB" ? 1024 : 1;
  return Math.round(Number(m[1]) * mult);
}

export function int(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw new UsageError(`--${flag}: "${value}" is not a whole number`);
  return Number(value);
}

export function num(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n))
    throw new UsageError(`--${flag}: "${value}" is not a number`);
  return n;
}
