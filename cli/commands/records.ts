// `relay send-connector|receive-connector|accepted-domain|user new|get|set|remove` and `relay records validate`.
import type { ParseArgsOptionsConfig } from "node:util";
import {
  formatProblem,
  parseRecord,
  RECORD_ID_FIELD,
  type RecordKind,
  type RecordProblem,
} from "#core/records/index.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import { parseFlags, requireStr, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { NotFoundCliError, UsageError } from "../errors.ts";
import { type Out, printMessage, printRecord, printTable } from "../output.ts";
import type { FieldFlag } from "../record-flags.ts";
import { fieldFlags, type KindSpec, RECORD_SPECS } from "./record-specs.ts";

export { RECORD_NOUNS } from "./record-specs.ts";

function optionsFor(spec: KindSpec): ParseArgsOptionsConfig {
  const opts: ParseArgsOptionsConfig = {};
  for (const x of spec.extra ?? []) opts[x.flag] = { type: x.boolean ? "boolean" : "string" };
  for (const ff of fieldFlags(spec))
    opts[ff.flag] = { type: ff.type === "bool" ? "boolean" : "string" };
  return opts;
}

/** "--address-spaces (addressSpaces[0].domain): ..." for a problem in a field that has a flag. */
export function problemText(flags: FieldFlag[], p: RecordProblem): string {
  const top = p.field.split(/[.[]/)[0] ?? "";
  const ff = flags.find((x) => x.field === top);
  return ff ? `--${ff.flag} (${p.field}): ${p.message}` : formatProblem(p);
}

/**
 * The problems of `record` alone and beside every other record (a duplicate address space, a
 * source listener that does not exist): what new and set refuse, and what the console shows.
 */
export async function recordProblems(
  ctx: Pick<CliContext, "records">,
  kind: RecordKind,
  record: Record<string, unknown>,
): Promise<RecordProblem[]> {
  const own = parseRecord(record);
  if (!own.ok) return own.problems;
  const idField = RECORD_ID_FIELD[kind];
  const id = String(record[idField]).toLowerCase();
  const others = (await ctx.records.list()).filter((r) => {
    const o = r as Record<string, unknown>;
    return !(o.kind === kind && String(o[idField]).toLowerCase() === id);
  });
  const set = buildRecordSet([...others, record]);
  const label = `${kind} "${String(record[idField])}"`;
  return set.problems.filter((p) => p.record === label);
}

/** Validates `record` alone and against every other record; throws UsageError naming the flags. */
async function validate(
  ctx: CliContext,
  spec: KindSpec,
  command: string,
  record: Record<string, unknown>,
): Promise<void> {
  const problems = await recordProblems(ctx, spec.kind, record);
  if (problems.length > 0)
    throw new UsageError(
      `relay ${command}: ${problems.map((p) => problemText(fieldFlags(spec), p)).join("; ")}`,
    );
}

async function load(ctx: CliContext, spec: KindSpec, id: string): Promise<Record<string, unknown>> {
  const r = await ctx.records.get(spec.kind, id);
  if (r === undefined)
    throw new NotFoundCliError(
      `${spec.kind} "${id}" not found; list them with relay ${spec.noun} get`,
    );
  return r as Record<string, unknown>;
}

export async function recordCommand(
  ctx: CliContext,
  out: Out,
  noun: string,
  verb: string,
  args: string[],
): Promise<void> {
  const spec = RECORD_SPECS[noun];
  if (!spec) throw new UsageError(`unknown command ${noun}`);
  const command = `${noun} ${verb}`;
  const flags = parseFlags(command, args, optionsFor(spec));
  out.json = flags.json === true;
  const idField = RECORD_ID_FIELD[spec.kind];
  switch (verb) {
    case "get": {
      const id = str(flags, spec.idFlag);
      if (id !== undefined) {
        const record = await load(ctx, spec, id);
        printRecord(out, (await spec.show?.(ctx, record)) ?? record);
        return;
      }
      const all = (await ctx.records.list()).filter(
        (r) => (r as Record<string, unknown>).kind === spec.kind,
      ) as Record<string, unknown>[];
      printTable(out, all.map(spec.row), spec.columns, all);
      return;
    }
    case "new":
    case "set": {
      const id = requireStr(command, flags, spec.idFlag);
      const isNew = verb === "new";
      let record: Record<string, unknown>;
      if (isNew) {
        if ((await ctx.records.get(spec.kind, id)) !== undefined)
          throw new UsageError(
            `relay ${command}: ${spec.kind} "${id}" already exists; change it with relay ${spec.noun} set`,
          );
        record = { kind: spec.kind };
      } else {
        record = await load(ctx, spec, id);
      }
      for (const ff of fieldFlags(spec)) {
        const v = flags[ff.flag];
        if (v === undefined || (ff.flag === spec.idFlag && !isNew)) continue;
        const value = ff.parse(v);
        if (value === undefined) delete record[ff.field];
        else record[ff.field] = value;
      }
      await spec.apply?.(ctx, flags, record, isNew);
      record.updatedAt = new Date().toISOString();
      await validate(ctx, spec, command, record);
      await ctx.records.put(record);
      const saved = parseRecord(record);
      printMessage(
        out,
        `${isNew ? "Created" : "Updated"} ${spec.kind} "${String(record[idField])}".`,
        { ok: true, record: saved.ok ? saved.record : record },
      );
      return;
    }
    case "remove": {
      const id = requireStr(command, flags, spec.idFlag);
      if (!(await ctx.records.delete(spec.kind, id)))
        throw new NotFoundCliError(
          `${spec.kind} "${id}" not found; list them with relay ${spec.noun} get`,
        );
      printMessage(out, `Removed ${spec.kind} "${id}".`, {
        ok: true,
        removed: { kind: spec.kind, id },
      });
      return;
    }
    default:
      throw new UsageError(`relay ${noun}: unknown verb "${verb}"; use new, get, set or remove`);
  }
}

/** `relay records validate`: every problem with its record, field and fix; exit 1 when there are any. */
export async function validateRecords(ctx: CliContext, out: Out, args: string[]): Promise<number> {
  const flags = parseFlags("records validate", args, {});
  out.json = flags.json === true;
  const set = buildRecordSet(await ctx.records.list());
  const counts = {
    sendConnectors: set.sendConnectors.length,
    receiveConnectors: set.receiveConnectors.length,
    acceptedDomains: set.acceptedDomains.length,
    smtpUsers: set.smtpUsers.length,
  };
  if (out.json) {
    out.write(
      `${JSON.stringify({ ok: set.problems.length === 0, valid: counts, problems: set.problems }, null, 2)}\n`,
    );
  } else {
    for (const p of set.problems) out.write(`${formatProblem(p)}\n`);
    out.write(
      `${set.problems.length} problem(s); valid: ${counts.sendConnectors} send connector(s), ${counts.receiveConnectors} receive connector(s), ${counts.acceptedDomains} accepted domain(s), ${counts.smtpUsers} user(s)\n`,
    );
  }
  return set.problems.length === 0 ? 0 : 1;
}
