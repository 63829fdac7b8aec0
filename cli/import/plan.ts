// What an import would do to the records: create, change, leave, or refuse each item, judged by the records' own schemas and cross-record rules.
import type { RecordStore } from "#core/ports.ts";
import { formatProblem, parseRecord, RECORD_ID_FIELD, recordLabel } from "#core/records/index.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import type { MappedItem, Note } from "./model.ts";

export type ImportAction = "create" | "change" | "unchanged" | "conflict" | "skip" | "invalid";

export interface PlanItem {
  action: ImportAction;
  kind: MappedItem["kind"];
  id: string;
  source: string;
  /** Why this action, in a sentence. */
  reason: string;
  /** Fields that differ from the stored record (change, conflict). */
  fields?: string[];
  /** Properties that did not carry over, and what to do instead. */
  notes: Note[];
  /** The record as it would be written (create, change). */
  record?: Record<string, unknown>;
}

const WRITES: ImportAction[] = ["create", "change"];
const key = (kind: string, id: string) => `${kind}\u0000${id.toLowerCase()}`;
const META = new Set(["updatedAt", "version"]);

/** Top-level fields whose effective values (after defaults) differ. */
function differingFields(a: unknown, b: unknown): string[] {
  const x = parseRecord(a);
  const y = parseRecord(b);
  if (!x.ok || !y.ok) return ["(stored record is invalid)"];
  const ra = x.record as Record<string, unknown>;
  const rb = y.record as Record<string, unknown>;
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])]
    .filter((f) => !META.has(f) && JSON.stringify(ra[f]) !== JSON.stringify(rb[f]))
    .sort();
}

/** Plans the import against the stored records; writes nothing. */
export async function planImport(
  items: MappedItem[],
  store: RecordStore,
  replace: boolean,
): Promise<PlanItem[]> {
  const stored = (await store.list()) as Record<string, unknown>[];
  const storedBy = new Map<string, Record<string, unknown>>();
  for (const s of stored) {
    const kind = String(s.kind);
    const idField = RECORD_ID_FIELD[kind as keyof typeof RECORD_ID_FIELD] ?? "name";
    storedBy.set(key(kind, String(s[idField])), s);
  }
  const seen = new Map<string, string>();
  const plan: PlanItem[] = items.map((item) => {
    const base = { kind: item.kind, id: item.id, source: item.source, notes: item.notes };
    if (item.skip || !item.record)
      return { ...base, action: "skip", reason: item.skip ?? "nothing to import" };
    const existing = storedBy.get(key(item.kind, item.id));
    // One TransportSettings record per organisation: the import sets its fields over the stored ones.
    const record =
      item.kind === "TransportSettings" && existing ? { ...existing, ...item.record } : item.record;
    delete record.updatedAt;
    delete record.version;
    const own = parseRecord(record);
    if (!own.ok)
      return { ...base, action: "invalid", reason: own.problems.map(formatProblem).join("; ") };
    const twice = seen.get(key(item.kind, item.id));
    seen.set(key(item.kind, item.id), item.source);
    if (twice)
      return {
        ...base,
        action: "invalid",
        reason: `also in ${twice}; a ${item.kind} name must be unique (case does not count)`,
      };
    if (!existing) return { ...base, action: "create", reason: "new", record };
    const fields = differingFields(existing, record);
    if (fields.length === 0)
      return { ...base, action: "unchanged", reason: "the stored record already says this" };
    if (replace)
      return {
        ...base,
        action: "change",
        reason: "--replace: overwrites the stored record",
        fields,
        record,
      };
    return {
      ...base,
      action: "conflict",
      reason: `a stored record differs in ${fields.join(", ")}; not overwritten (--replace overwrites it)`,
      fields,
    };
  });
  crossRecordCheck(plan, stored);
  return plan;
}

/**
 * The relay's own cross-record rules (overlapping ranges on a binding, duplicate ids, ...) over the
 * records as they would be after the import; an item they refuse is not written, and the check
 * runs again without it until the rest passes.
 */
function crossRecordCheck(plan: PlanItem[], stored: Record<string, unknown>[]): void {
  for (;;) {
    const writes = plan.filter((p) => WRITES.includes(p.action));
    const replaced = new Set(writes.map((p) => key(p.kind, p.id)));
    const kept = stored.filter((s) => {
      const idField = RECORD_ID_FIELD[s.kind as keyof typeof RECORD_ID_FIELD] ?? "name";
      return !replaced.has(key(String(s.kind), String(s[idField])));
    });
    const set = buildRecordSet([...kept, ...writes.map((p) => p.record)]);
    let refused = false;
    for (const p of writes) {
      const label = recordLabel(p.record);
      const problems = set.problems.filter((x) => x.record === label);
      if (problems.length === 0) continue;
      p.action = "invalid";
      p.reason = problems.map(formatProblem).join("; ");
      delete p.record;
      delete p.fields;
      refused = true;
    }
    if (!refused) return;
  }
}

const ORDER: MappedItem["kind"][] = [
  "AcceptedDomain",
  "ReceiveConnector",
  "SendConnector",
  "TransportSettings",
];

/** Writes the create and change items: domains first, so no connector ever waits on a domain. */
export async function applyPlan(plan: PlanItem[], store: RecordStore, now: Date): Promise<number> {
  let written = 0;
  for (const kind of ORDER)
    for (const p of plan)
      if (p.kind === kind && p.record && WRITES.includes(p.action)) {
        await store.put({ ...p.record, updatedAt: now.toISOString() });
        written++;
      }
  return written;
}
