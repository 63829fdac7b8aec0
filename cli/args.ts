// Flag parsing for the CLI on node:util parseArgs: kebab-case flags, strict, errors that name the flag.
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { parseMailbox } from "#core/address.ts";
import { UsageError } from "./errors.ts";

export type Flags = Record<string, string | boolean | undefined>;

/**
 * The AWS back end's flags, each with the environment variable that stands in for it (the stack's
 * own contract, adapters/aws/env.ts, plus the dead-letter queues the functions never need).
 */
export const AWS_FLAGS = {
  region: "AWS_REGION",
  "record-table": "RELAY_RECORD_TABLE",
  "tracking-table": "RELAY_TRACKING_TABLE",
  "limits-table": "RELAY_LIMITS_TABLE",
  "submission-queue-url": "RELAY_SUBMISSION_QUEUE_URL",
  "delivery-queue-url": "RELAY_DELIVERY_QUEUE_URL",
  "submission-dlq-url": "RELAY_SUBMISSION_DLQ_URL",
  "delivery-dlq-url": "RELAY_DELIVERY_DLQ_URL",
  "body-bucket": "RELAY_BODY_BUCKET",
  "secret-prefix": "RELAY_SECRET_PREFIX",
} as const;
export type AwsFlag = keyof typeof AWS_FLAGS;

/** Options every command takes. */
export const COMMON_OPTIONS: ParseArgsOptionsConfig = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  home: { type: "string" },
  aws: { type: "boolean" },
  stack: { type: "string" },
  ...Object.fromEntries(Object.keys(AWS_FLAGS).map((k) => [k, { type: "string" as const }])),
};

/** Flags that would put a secret on the command line (and in shell history): refused with the way to do it. */
const SECRET_FLAGS = new Set(["password", "auth-password", "secret"]);

export function parseFlags(
  command: string,
  args: string[],
  options: ParseArgsOptionsConfig,
): Flags {
  return parseCommand(command, args, options, 0).flags;
}

/** Flags and up to `maxPositionals` positional arguments (e.g. a message id), strictly. */
export function parseCommand(
  command: string,
  args: string[],
  options: ParseArgsOptionsConfig,
  maxPositionals: number,
): { flags: Flags; positionals: string[] } {
  for (const a of args) {
    const name = a.replace(/^--?/, "").split("=")[0] ?? "";
    if (a.startsWith("-") && SECRET_FLAGS.has(name)) {
      throw new UsageError(
        `--${name} is not accepted: passwords never go on the command line; set RELAY_PASSWORD in the environment or type it at the prompt`,
      );
    }
  }
  let parsed: { values: Flags; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      strict: true,
      allowPositionals: maxPositionals > 0,
      allowNegative: true,
    }) as { values: Flags; positionals: string[] };
  } catch (error) {
    const msg = (error as Error).message
      .replace(/\. To specify a positional argument.*$/s, "")
      .replace(/^Unknown option '(.*)'$/, "unknown option $1");
    throw new UsageError(`relay ${command}: ${msg}; see relay ${command} --help`);
  }
  if (parsed.positionals.length > maxPositionals)
    throw new UsageError(
      `relay ${command}: unexpected argument "${parsed.positionals[maxPositionals]}"; see relay ${command} --help`,
    );
  return { flags: parsed.values, positionals: parsed.positionals };
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

/** "90", "90s", "15m", "4h", "2d" → seconds (Exchange writes 2.00:00:00; admins type 2d). */
export function seconds(flag: string, value: string): number {
  const m = /^\s*(\d+)\s*(s|m|h|d)?\s*$/i.exec(value);
  if (!m)
    throw new UsageError(
      `--${flag}: "${value}" is not a duration; use seconds or a number with s, m, h or d, e.g. 4h`,
    );
  const unit = (m[2] ?? "s").toLowerCase();
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600, d: 86_400 }[unit] ?? 1);
}

export function num(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n))
    throw new UsageError(`--${flag}: "${value}" is not a number`);
  return n;
}

/** An envelope address for a flag, checked as the listener checks one; "<>" or "" is the null sender where allowed. */
export function address(
  flag: string,
  value: string,
  options: { nullSender?: boolean } = {},
): string {
  const v = value.trim().replace(/^<(.*)>$/, "$1");
  if (v === "" && options.nullSender) return "";
  const parsed = parseMailbox(v);
  if (!parsed.ok)
    throw new UsageError(`--${flag}: "${value}" is not an email address (${parsed.reason})`);
  return parsed.mailbox.address;
}

/** A relay message id, also as Exchange's queue identity "queue\\id" (the part after the last backslash). */
export function messageIdArg(command: string, positionals: string[]): string {
  const raw = positionals[0];
  if (raw === undefined)
    throw new UsageError(
      `relay ${command}: the message id is required, e.g. relay ${command} 20261124T162639Z-e72691dd77bb`,
    );
  const id = raw.slice(raw.lastIndexOf("\\") + 1);
  if (!/^\d{8}T\d{6}Z-[0-9a-f]{12}$/.test(id))
    throw new UsageError(
      `relay ${command}: "${raw}" is not a message id; ids look like 20261124T162639Z-e72691dd77bb (from the 250 reply, relay message get or relay track)`,
    );
  return id;
}
