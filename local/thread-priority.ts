// Scheduling priority for local mode's background threads: accepting mail comes before delivering it.
import { execFileSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/*
 * On a small machine the delivery pipeline competes for the same cores as the listener, whose
 * thread also commits the queues. A client waits on that thread for its 250; nobody waits on
 * delivery to the millisecond. So the pipeline thread runs under SCHED_IDLE: it gets every cycle
 * no other thread wants, and any wake-up of the listener (a client's bytes, the end of a WAL sync)
 * preempts it at once. With a plain nice value a woken thread may still wait for the running one's
 * time slice; measured in bench/README.md ("Latency: no hop before the 250"), the dot→250 p99 at one
 * session fell from 6.1 to 5.2 ms (mean of five runs each) and at ten sessions from 37 to 31 ms.
 * Threads it starts (tracking.db's checkpointer) inherit the policy. Linux keeps a policy and a nice
 * value per thread, so the call names the thread id (from /proc/thread-self). Lowering either needs
 * no privilege. Node has no binding for sched_setscheduler, so util-linux's chrt makes the call;
 * where it is missing the thread is only niced.
 */
export const PIPELINE_NICE = 10;

/** How the calling thread is now scheduled: SCHED_IDLE, a nice value, or unknown (not Linux). */
export type ThreadPriority = { policy: "idle" } | { policy: "normal"; nice: number } | undefined;

/** Makes the calling thread a background one (SCHED_IDLE, else niced to `nice`); never raises it. */
export function backgroundThisThread(nice = PIPELINE_NICE): ThreadPriority {
  let tid: number;
  try {
    tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(tid) || tid <= 0) return undefined;
  if (getPriority(tid) < nice) setPriority(tid, nice);
  try {
    execFileSync("chrt", ["-i", "-p", "0", String(tid)], { stdio: "ignore", timeout: 5000 });
    return { policy: "idle" };
  } catch {
    return { policy: "normal", nice: getPriority(tid) };
  }
}
