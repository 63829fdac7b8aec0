// Local mode's delivery pipeline runs at a lower scheduling priority than the listener's thread,
// which also commits the queues (local/thread-priority.ts): read from the running relay's threads in
// /proc (Linux).
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { PIPELINE_NICE } from "#local/thread-priority.ts";
import { startRelayChild } from "#test/support/relay-child.ts";
import { appsConnector, freePort, writeRecords } from "#test/support/relay-process.ts";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

/** Each thread of `pid`: its name and nice value (/proc/<pid>/task/<tid>/stat, field 19). */
function threads(pid: number): Array<{ name: string; nice: number }> {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const fields = text.slice(close + 2).split(" ");
    return { name: text.slice(text.indexOf("(") + 1, close), nice: Number(fields[16]) };
  });
}

test("the pipeline thread runs niced, the listener's thread does not", async () => {
  const home = await mkdtemp(join(tmpdir(), "relay-priority-"));
  cleanup.push(() => rm(home, { recursive: true, force: true }));
  await writeRecords(home, [appsConnector(await freePort())]);
  const relay = startRelayChild(home);
  cleanup.push(() => relay.stop());
  await relay.ready();
  const all = threads(relay.pid);
  const main = all.find((t) => t.name === "MainThread");
  const workers = all.filter((t) => t.name === "WorkerThread");
  expect(main?.nice).toBe(0);
  // The pipeline thread, and the tracking checkpointer it starts, niced.
  expect(workers.length).toBeGreaterThanOrEqual(1);
  expect(workers.every((t) => t.nice === PIPELINE_NICE)).toBe(true);
});
