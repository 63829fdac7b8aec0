// The import's report: a table of what happens to each item, then what did not carry over and what to do instead.
import { type Out, printTable } from "../output.ts";
import type { ImportAction, PlanItem } from "./plan.ts";

const ACTIONS: ImportAction[] = ["create", "change", "unchanged", "conflict", "invalid", "skip"];

export function countActions(plan: PlanItem[]): Record<ImportAction, number> {
  return Object.fromEntries(
    ACTIONS.map((a) => [a, plan.filter((p) => p.action === a).length]),
  ) as Record<ImportAction, number>;
}

export function renderImport(out: Out, plan: PlanItem[], applied: boolean, written: number): void {
  const counts = countActions(plan);
  if (out.json) {
    const items = plan.map(({ record, ...rest }) => (record ? { ...rest, record } : rest));
    out.write(
      `${JSON.stringify({ ok: counts.conflict + counts.invalid === 0, applied, written, counts, items }, null, 2)}\n`,
    );
    return;
  }
  const verb = (a: ImportAction) =>
    applied ? ({ create: "created", change: "changed" }[a as "create"] ?? a) : a;
  printTable(
    out,
    plan.map((p) => ({
      Action: verb(p.action),
      Kind: p.kind,
      Name: p.id,
      Source: p.source,
      Reason: p.reason,
    })),
    ["Action", "Kind", "Name", "Source", "Reason"],
  );
  const noted = plan.filter((p) => p.notes.length > 0);
  if (noted.length > 0) {
    out.write("\nNot carried over, or carried over changed:\n");
    for (const p of noted) {
      out.write(`  ${p.kind} "${p.id}" (${p.source}):\n`);
      for (const n of p.notes) out.write(`    ${n.property}: ${n.message}\n`);
    }
  }
  const summary = ACTIONS.filter((a) => counts[a] > 0)
    .map((a) => `${counts[a]} ${applied ? verb(a) : a}`)
    .join(", ");
  out.write(`\n${summary || "nothing to import"}.\n`);
  out.write(
    applied
      ? `Wrote ${written} record(s). Check them with relay records validate.\n`
      : "Dry run: nothing was written; --apply writes the create items (and, with --replace, the conflicts).\n",
  );
}
