// CPU time of peer processes from /proc, so each peer's cost per message is measured on a shared machine.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let tick: number | undefined;
/** Seconds per clock tick of /proc/<pid>/stat times (USER_HZ). */
function secondsPerTick(): number {
  tick ??= 1 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim() || 100);
  return tick;
}

interface Stat {
  ppid: number;
  /** utime + stime of the process itself. */
  own: number;
  /** cutime + cstime: children it has reaped. */
  reaped: number;
}

function statOf(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields start after the last ")".
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const n = (i: number) => Number(f[i] ?? 0);
    return { ppid: n(1), own: n(11) + n(12), reaped: n(13) + n(14) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by `pid`, the children it has reaped and (with `liveChildren`) its
 * children still running — how Postfix's master and its short-lived daemons add up.
 */
export function cpuSeconds(pid: number, liveChildren = false): number {
  const root = statOf(pid);
  if (!root) return Number.NaN;
  let ticks = root.own + root.reaped;
  if (liveChildren) {
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const s = statOf(Number(name));
      if (s?.ppid === pid) ticks += s.own;
    }
  }
  return ticks * secondsPerTick();
}

/** User and system CPU seconds of `pid` itself (a socket write's kernel work shows as system time). */
export function cpuSplitSeconds(pid: number): { user: number; system: number } {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { user: Number(f[11]) * secondsPerTick(), system: Number(f[12]) * secondsPerTick() };
  } catch {
    return { user: Number.NaN, system: Number.NaN };
  }
}

/** Whole-machine CPU counters from /proc/stat: busy (user+nice+system+irq+softirq) and total ticks. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const busy = user + nice + system + irq + softirq;
  return { busy, total: busy + idle + iowait + steal };
}
