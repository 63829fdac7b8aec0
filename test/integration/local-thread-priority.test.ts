// Local mode's delivery pipeline runs at a lower scheduling priority than the listener's thread,
// which also commits the queues (local/thread-priority.ts): read from the running relay's threads in
// /proc (Linux).
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { PIPELINE_NICE } from "#local/thread-priority.ts";
import {
  appsConnector,
  freePort,
  startRelayProcess,
  writeRecords,
} from "#test/support/relay-process.ts";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

/** /proc/<pid>/stat's fields after the command name: [state, ppid, ...]. */
function statFields(path: string): { comm: string; rest: string[] } {
  const text = readFileSync(path, "utf8");
  const close = text.lastIndexOf(")");
  return {
    comm: text.slice(text.indexOf("(") + 1, close),
    rest: text.slice(close + 2).split(" "),
  };
}

/** The node process `npm start` runs under the npm process `root` (through any shell between). */
function relayNode(root: number): number | undefined {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(statFields(`/proc/${entry}/stat`).rest[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (argv[0]?.endsWith("node") && argv.includes("local/main.ts")) return pid;
    queue.push(...(children.get(pid) ?? []));
  }
  return undefined;
}

/** Each thread of `pid`: its name and nice value (field 19 of stat). */
function threads(pid: number): Array<{ name: string; nice: number }> {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const { comm, rest } = statFields(`/proc/${pid}/task/${tid}/stat`);
    return { name: comm, nice: Number(rest[16]) };
  });
}

test("the pipeline thread runs niced, the listener's thread does not", async () => {
  const home = await mkdtemp(join(tmpdir(), "relay-priority-"));
  cleanup.push(() => rm(home, { recursive: true, force: true }));
  await writeRecords(home, [appsConnector(await freePort())]);
  const relay = startRelayProcess(home);
  cleanup.push(() => relay.stop());
  await relay.ready;
  const pid = relayNode(relay.child.pid as number);
  expect(pid).toBeDefined();
  const all = threads(pid as number);
  const main = all.find((t) => t.name === "MainThread");
  const workers = all.filter((t) => t.name === "WorkerThread");
  expect(main?.nice).toBe(0);
  // The pipeline thread, and the tracking checkpointer it starts, niced.
  expect(workers.length).toBeGreaterThanOrEqual(1);
  expect(workers.every((t) => t.nice === PIPELINE_NICE)).toBe(true);
});
