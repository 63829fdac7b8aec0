// Scheduling priority for local mode's background threads: accepting mail comes before delivering it.
import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/*
 * On a small machine the delivery pipeline competes for the same cores as the listener, whose
 * thread also commits the queues. A client waits on that thread for its 250; nobody waits on
 * delivery to the millisecond. The pipeline thread therefore runs at a lower priority (a higher
 * nice value), so a wake-up of the listener preempts it at once instead of waiting for its time
 * slice; when the listener is idle the pipeline still gets every free cycle (the scheduler shares
 * by weight, it does not starve). Linux keeps a nice value per thread: setpriority on a thread id
 * (from /proc/thread-self) changes only that thread. Raising a nice value needs no privilege.
 */
export const PIPELINE_NICE = 10;

/**
 * Lowers the calling thread's priority to `nice` (never raises it). Returns the nice value now in
 * force, or undefined where threads cannot be told apart (not Linux).
 */
export function lowerThisThreadPriority(nice: number): number | undefined {
  let tid: number;
  try {
    tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(tid) || tid <= 0) return undefined;
  if (getPriority(tid) < nice) setPriority(tid, nice);
  return getPriority(tid);
}
