// Local mode's delivery pipeline runs at a lower priority than the listener's thread, which also
// commits the queues (local/thread-priority.ts, RELAY_DELIVERY_PRIORITY): niced by default,
// SCHED_IDLE on request, read from the running relay's threads in /proc (Linux).
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { PIPELINE_NICE } from "#local/thread-priority.ts";
import { startRelayChild } from "#test/support/relay-child.ts";
import { appsConnector, freePort, waitFor, writeRecords } from "#test/support/relay-process.ts";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** Each thread of `pid`: its name, nice value and policy (/proc/<pid>/task/<tid>/stat fields 2, 19 and 41). */
function threads(pid: number): Array<{ name: string; nice: number; policy: number }> {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const fields = text.slice(close + 2).split(" ");
    return {
      name: text.slice(text.indexOf("(") + 1, close),
      nice: Number(fields[16]),
      policy: Number(fields[38]),
    };
  });
}

/** A relay started with `env` on a home of its own (not yet waited for). */
async function startWith(env: Record<string, string>) {
  const home = await mkdtemp(join(tmpdir(), "relay-priority-"));
  cleanup.push(() => rm(home, { recursive: true, force: true }));
  await writeRecords(home, [appsConnector(await freePort())]);
  const relay = startRelayChild(home, undefined, env);
  cleanup.push(() => relay.stop());
  return relay;
}

/** A relay started with `env`, and its pipeline threads once it is up. */
async function relayThreadsOf(env: Record<string, string>) {
  const relay = await startWith(env);
  await relay.ready();
  const all = threads(relay.pid);
  const main = all.find((t) => t.name === "MainThread");
  expect(main).toMatchObject({ nice: 0, policy: SCHED_OTHER });
  // The thread pool (the listener's deferred WAL syncs, file and DNS work) is the listener's.
  for (const t of all.filter((t) => t.name === "libuv-worker")) expect(t.policy).toBe(SCHED_OTHER);
  // The pipeline thread, and the tracking checkpointer it starts.
  const workers = all.filter((t) => t.name === "WorkerThread");
  expect(workers.length).toBeGreaterThanOrEqual(1);
  return { workers, relay };
}

const relayThreads = async (env: Record<string, string>) => (await relayThreadsOf(env)).workers;

test("by default the pipeline thread runs niced, the listener's thread does not", async () => {
  for (const w of await relayThreads({}))
    expect(w).toMatchObject({ nice: PIPELINE_NICE, policy: SCHED_OTHER });
});

test("RELAY_DELIVERY_PRIORITY=idle puts the pipeline thread under SCHED_IDLE", async () => {
  for (const w of await relayThreads({ RELAY_DELIVERY_PRIORITY: "idle" }))
    expect(w.policy).toBe(SCHED_IDLE);
});

test("RELAY_DELIVERY_PRIORITY=idle without chrt: niced, and the log says the setting was not applied", async () => {
  const { workers, relay } = await relayThreadsOf({
    RELAY_DELIVERY_PRIORITY: "idle",
    PATH: "/nonexistent",
  });
  for (const w of workers) expect(w).toMatchObject({ nice: PIPELINE_NICE, policy: SCHED_OTHER });
  await waitFor("the warning", () =>
    relay.stderr().includes("RELAY_DELIVERY_PRIORITY=idle not applied"),
  );
});

test("an unknown RELAY_DELIVERY_PRIORITY stops the start with the variable named", async () => {
  const relay = await startWith({ RELAY_DELIVERY_PRIORITY: "realtime" });
  expect(await relay.exited).toBe(1);
  expect(relay.stderr()).toContain('RELAY_DELIVERY_PRIORITY must be low or idle, not "realtime"');
});
