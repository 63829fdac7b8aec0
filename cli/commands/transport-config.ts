// `relay transport-config get|set`: the organisation-wide TransportSettings (Exchange's Get-/Set-TransportConfig).
import type { ParseArgsOptionsConfig } from "node:util";
import { parseRecord, type RecordProblem } from "#core/records/index.ts";
import { TransportSettingsSchema } from "#core/records/transport-settings.ts";
import { list, parseFlags, seconds } from "../args.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { type Out, printMessage, printRecord } from "../output.ts";
import { type CustomField, deriveFlags, type FieldFlag } from "../record-flags.ts";
import { problemText } from "./records.ts";

type Step = { intervalSeconds: number; count: number };

/** "1m x4, 5m x6, 15m" or "60x4,300x6,900x1" → retry steps; a step without a count is used once. */
export function parseRetrySchedule(value: string, flag: string): Step[] {
  return list(value).map((entry) => {
    const m = /^(.+?)\s*(?:x\s*(\d+))?$/i.exec(entry.trim());
    if (!m?.[1])
      throw new UsageError(
        `--${flag}: "${entry}" is not a retry step; use INTERVALxCOUNT, e.g. 5mx6`,
      );
    return { intervalSeconds: seconds(flag, m[1]), count: m[2] === undefined ? 1 : Number(m[2]) };
  });
}

const RETRY_SCHEDULE: CustomField = {
  hint: "list of INTERVALxCOUNT",
  parse: parseRetrySchedule,
  format: (v) => (v as Step[]).map((s) => `${s.intervalSeconds}x${s.count}`).join(","),
};

/** The settings' field flags; `name` is always "default" (one record per organisation). */
export const TRANSPORT_FLAGS: FieldFlag[] = deriveFlags(TransportSettingsSchema, {
  skip: { name: 'always "default": one TransportSettings record per organisation' },
  custom: { retrySchedule: RETRY_SCHEDULE },
});

export const TRANSPORT_EXAMPLES = {
  get: "relay transport-config get --json",
  set: "relay transport-config set --message-expiration-timeout-seconds 1d --retry-schedule 1mx4,5mx6,15m --egress-ips 203.0.113.5",
};

const KEY = { kind: "TransportSettings", name: "default" } as const;

export async function transportConfigCommand(
  ctx: CliContext,
  out: Out,
  verb: string,
  args: string[],
): Promise<number> {
  const command = `transport-config ${verb}`;
  if (verb !== "get" && verb !== "set")
    throw new UsageError(`relay transport-config: unknown verb "${verb}"; use get or set`);
  const options: ParseArgsOptionsConfig = {};
  if (verb === "set")
    for (const ff of TRANSPORT_FLAGS)
      options[ff.flag] = { type: ff.type === "bool" ? "boolean" : "string" };
  const flags = parseFlags(command, args, options);
  out.json = flags.json === true;
  const stored = (await ctx.records.get(KEY.kind, KEY.name)) as Record<string, unknown> | undefined;
  if (verb === "get") {
    // What the relay uses: the stored record over the defaults, or the defaults when it is invalid.
    const parsed = parseRecord(stored ?? KEY);
    if (!parsed.ok) {
      const problems = parsed.problems.map((p: RecordProblem) => problemText(TRANSPORT_FLAGS, p));
      throw new Error(
        `the stored TransportSettings record is invalid, so the relay uses the defaults: ${problems.join("; ")}; fix it with relay transport-config set`,
      );
    }
    printRecord(out, parsed.record as unknown as Record<string, unknown>);
    return 0;
  }
  const record: Record<string, unknown> = { ...(stored ?? KEY) };
  let changed = 0;
  for (const ff of TRANSPORT_FLAGS) {
    const v = flags[ff.flag];
    if (v === undefined) continue;
    record[ff.field] = ff.parse(v);
    changed++;
  }
  if (changed === 0)
    throw new UsageError(
      `relay ${command}: nothing to change; give at least one of ${TRANSPORT_FLAGS.map((f) => `--${f.flag}`).join(", ")}`,
    );
  record.updatedAt = new Date().toISOString();
  const parsed = parseRecord(record);
  if (!parsed.ok)
    throw new UsageError(
      `relay ${command}: ${parsed.problems.map((p) => problemText(TRANSPORT_FLAGS, p)).join("; ")}`,
    );
  await ctx.records.put(record);
  printMessage(out, "Updated TransportSettings.", { ok: true, record: parsed.record });
  return 0;
}
