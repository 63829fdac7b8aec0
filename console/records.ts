// Saving and removing records from the console: the CLI's validation (schema, then beside every other record), then the store, then the change log.
import { recordProblems } from "#cli/commands/records.ts";
import { RECORD_ID_FIELD, type RecordKind } from "#core/records/index.ts";
import type { ConsoleApp, ConsoleRequest } from "./app.ts";
import { addError, type FieldErrors, problemsByField } from "./forms.ts";

/** The records of one kind as stored (raw: an invalid one is listed too, and Health says why). */
export async function recordsOf(
  app: ConsoleApp,
  kind: RecordKind,
): Promise<Record<string, unknown>[]> {
  return (await app.ctx.records.list()).filter(
    (r) => (r as Record<string, unknown>).kind === kind,
  ) as Record<string, unknown>[];
}

export const labelOf = (kind: RecordKind, record: Record<string, unknown>) =>
  `${kind} "${String(record[RECORD_ID_FIELD[kind]])}"`;

/**
 * Saves `record` when it is valid, as `relay ... new|set` would; otherwise adds the problems to
 * `errors` under their fields and saves nothing. `before` is the stored record (undefined: new).
 */
export async function saveRecord(
  app: ConsoleApp,
  req: ConsoleRequest,
  kind: RecordKind,
  record: Record<string, unknown>,
  before: Record<string, unknown> | undefined,
  errors: FieldErrors,
): Promise<boolean> {
  const idField = RECORD_ID_FIELD[kind];
  if (before === undefined && typeof record[idField] === "string") {
    const existing = await app.ctx.records.get(kind, String(record[idField]).trim());
    if (existing !== undefined)
      addError(errors, idField, `${labelOf(kind, record)} already exists; edit it instead`);
  }
  if (errors.size > 0) return false;
  const candidate = { ...record, updatedAt: new Date().toISOString() };
  const problems = await recordProblems(app.ctx, kind, candidate);
  if (problems.length > 0) {
    problemsByField(problems, errors);
    return false;
  }
  await app.ctx.records.put(candidate);
  app.audit(req, before ? "update" : "create", labelOf(kind, candidate), before, candidate);
  req.flash(`${before ? "Saved" : "Created"} ${labelOf(kind, candidate)}.`);
  return true;
}

export async function removeRecord(
  app: ConsoleApp,
  req: ConsoleRequest,
  kind: RecordKind,
  id: string,
): Promise<boolean> {
  const before = (await app.ctx.records.get(kind, id)) as Record<string, unknown> | undefined;
  if (!before || !(await app.ctx.records.delete(kind, id))) {
    req.flash(`${kind} "${id}" was not there; nothing removed.`);
    return false;
  }
  app.audit(req, "remove", labelOf(kind, before), before, undefined);
  req.flash(`Removed ${labelOf(kind, before)}.`);
  return true;
}
