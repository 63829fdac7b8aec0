// `npm run bench:crash`: how many acknowledged messages a kill -9 mid-load sends twice (and that it loses none), over several runs.
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { type CrashRunResult, runCrash } from "#test/support/crash-run.ts";

const ROOT = join(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    total: { type: "string", default: "2000" },
    "kill-after": { type: "string", default: "700" },
    connections: { type: "string", default: "10" },
    /** The stated bound: duplicates at most this share of acknowledged messages, in every run. */
    "bound-percent": { type: "string", default: "0.5" },
    json: { type: "boolean", default: false },
  },
});
const RUNS = Number(args.runs);
const BOUND = Number(args["bound-percent"]);

const log = (line: string) =>
  process.stderr.write(`[bench:crash ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

interface CrashBenchResult {
  bench: "connector-relay crash";
  startedAt: string;
  params: { runs: number; total: number; killAfter: number; connections: number };
  runs: (Omit<CrashRunResult, "missing"> & { missing: number })[];
  /**
   * Over all runs: acknowledged, duplicates and their share; lost must be 0. `acceptedAfterKill`:
   * duplicates whose first copy the sink accepted only after the kill (its 250 went to a dead
   * process: RFC 1047's window, which the relay cannot close).
   */
  total: {
    acknowledged: number;
    duplicates: number;
    duplicatePercent: number;
    acceptedAfterKill: number;
    lost: number;
  };
  bound: { duplicatePercent: number; met: boolean; runsOver: number };
}

const startedAt = new Date().toISOString();
const runs: CrashBenchResult["runs"] = [];
for (let i = 1; i <= RUNS; i++) {
  const r = await runCrash({
    total: Number(args.total),
    killAfter: Number(args["kill-after"]),
    connections: Number(args.connections),
  });
  runs.push({ ...r, missing: r.missing.length });
  log(
    `run ${i}/${RUNS}: acknowledged ${r.acknowledged}, duplicates ${r.duplicates} (${r.duplicatePercent} %; first copy accepted ${r.duplicateAgesMs.join(", ") || "-"} ms before the kill), missing ${r.missing.length}, delivered without 250 ${r.deliveredWithout250}`,
  );
}
const acknowledged = runs.reduce((a, r) => a + r.acknowledged, 0);
const duplicates = runs.reduce((a, r) => a + r.duplicates, 0);
const lost = runs.reduce((a, r) => a + r.missing, 0);
const runsOver = runs.filter((r) => r.duplicatePercent > BOUND).length;
const result: CrashBenchResult = {
  bench: "connector-relay crash",
  startedAt,
  params: {
    runs: RUNS,
    total: Number(args.total),
    killAfter: Number(args["kill-after"]),
    connections: Number(args.connections),
  },
  runs,
  total: {
    acknowledged,
    duplicates,
    duplicatePercent: acknowledged ? Math.round((duplicates / acknowledged) * 10_000) / 100 : 0,
    acceptedAfterKill: runs.flatMap((r) => r.duplicateAgesMs).filter((ms) => ms < 0).length,
    lost,
  },
  bound: { duplicatePercent: BOUND, met: lost === 0 && runsOver === 0, runsOver },
};
const dir = join(ROOT, "bench", "results");
await mkdir(dir, { recursive: true });
const file = join(dir, `crash-${startedAt.replace(/[:.]/g, "-").slice(0, 19)}.json`);
const text = `${JSON.stringify(result, null, 2)}\n`;
await writeFile(file, text);
process.stdout.write(
  args.json
    ? text
    : `crash: ${RUNS} runs, ${acknowledged} acknowledged, ${duplicates} duplicates (${result.total.duplicatePercent} %; ${result.total.acceptedAfterKill} accepted by the sink only after the kill), ${lost} lost; per run ${runs.map((r) => `${r.duplicates}/${r.acknowledged}`).join(", ")}; bound ${BOUND} % per run ${result.bound.met ? "met" : `missed in ${runsOver} run(s)`}\n  results: ${relative(ROOT, file)}\n`,
);
if (!result.bound.met) process.exitCode = 2;
