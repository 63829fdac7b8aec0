// Scheduling priority for local mode's background threads: accepting mail comes before delivering it.
import { execFileSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/*
 * On a small machine the delivery pipeline competes for the same cores as the listener, whose
 * thread also commits the queues. A client waits on that thread for its 250; nobody waits on
 * delivery to the millisecond. So the pipeline thread runs at a lower priority (RELAY_DELIVERY_PRIORITY):
 *
 * - `low` (default): nice 10. The scheduler shares by weight: the listener comes first, and delivery
 *   still gets about a tenth of a core when other programs keep every core busy.
 * - `idle`: SCHED_IDLE. Any wake-up of the listener (a client's bytes, the end of a WAL sync)
 *   preempts delivery at once, where a woken thread may otherwise wait for the running one's slice;
 *   the dot→250 p99 fell from 6.1 to 5.2 ms at one session and from 38 to 32 ms at ten (bench/README.md,
 *   "Latency: no hop before the 250"). But delivery then runs only on cycles nothing else wants:
 *   with two busy loops of another program on a two-core machine, no message left for 25 s. For a
 *   machine that does nothing but relay.
 *
 * Threads the pipeline starts (tracking.db's checkpointer) inherit the setting. Linux keeps a
 * policy and a nice value per thread, so the calls name the thread id (from /proc/thread-self);
 * lowering either needs no privilege. Node has no binding for sched_setscheduler, so util-linux's
 * (or BusyBox's) chrt makes that call; where it is missing the thread is only niced.
 */
export const PIPELINE_NICE = 10;

export const DELIVERY_PRIORITIES = ["low", "idle"] as const;
export type DeliveryPriority = (typeof DELIVERY_PRIORITIES)[number];

/** RELAY_DELIVERY_PRIORITY's value; unset or empty is `low`. */
export function parseDeliveryPriority(value: string | undefined): DeliveryPriority {
  const v = value?.trim().toLowerCase() || "low";
  if ((DELIVERY_PRIORITIES as readonly string[]).includes(v)) return v as DeliveryPriority;
  throw new Error(
    `RELAY_DELIVERY_PRIORITY must be ${DELIVERY_PRIORITIES.join(" or ")}, not ${JSON.stringify(value)}`,
  );
}

/** How the calling thread is now scheduled: SCHED_IDLE, a nice value, or unknown (not Linux). */
export type ThreadPriority = { policy: "idle" } | { policy: "normal"; nice: number } | undefined;

/** Lowers the calling thread's priority as `priority` says (never raises it). */
export function backgroundThisThread(priority: DeliveryPriority = "low"): ThreadPriority {
  let tid: number;
  try {
    tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(tid) || tid <= 0) return undefined;
  if (getPriority(tid) < PIPELINE_NICE) setPriority(tid, PIPELINE_NICE);
  if (priority === "idle") {
    try {
      execFileSync("chrt", ["-i", "-p", "0", String(tid)], { stdio: "ignore", timeout: 5000 });
      return { policy: "idle" };
    } catch {
      // No chrt (or a sandbox that refuses the call): niced, as `low`.
    }
  }
  return { policy: "normal", nice: getPriority(tid) };
}
