// Local mode as a child process run straight on the pinned Node (no npm in between), so its pid, RSS and exit are the relay's own.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./relay-process.ts";

const ROOT = join(import.meta.dirname, "..", "..");

export interface RelayChild {
  child: ChildProcess;
  /** The relay's pid (a wrapper command must `exec` it). */
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when the banner has been printed; rejects with the output if the relay exits first. */
  ready(timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  /** Resident set size now, in KiB (VmRSS). */
  rssKiB(): number;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/**
 * Starts `node local/main.ts` with RELAY_HOME; `wrap` puts a command in front that must end by
 * exec'ing the argv it is given (e.g. `unshare … sh -c '…; exec "$@"'`); `env` adds to this process's.
 */
export function startRelayChild(
  home: string,
  wrap: (argv: string[]) => string[] = (argv) => argv,
  env: Record<string, string> = {},
): RelayChild {
  const [cmd, ...args] = wrap([process.execPath, "local/main.ts"]);
  const child = spawn(cmd!, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, RELAY_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    // Bounded: a long fuzz run logs every failed session.
    err = (err + d).slice(-5_000_000);
  });
  const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
  return {
    child,
    pid: child.pid ?? 0,
    stdout: () => out,
    stderr: () => err,
    async ready(timeoutMs = 30_000) {
      await waitFor(
        "the relay to start",
        () => {
          if (child.exitCode !== null) throw new Error(`relay exited with ${child.exitCode}`);
          return out.includes("connector-relay is running");
        },
        timeoutMs,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${out}\n${err}`);
      });
    },
    exited,
    rssKiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
