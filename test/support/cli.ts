// Runs the `relay` CLI as a child process, exactly as an admin would, through bin/relay.mjs.
import { spawn } from "node:child_process";
import { join } from "node:path";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = join(import.meta.dirname, "..", "..", "bin", "relay.mjs");

export function runCli(
  args: string[],
  options: { home: string; env?: Record<string, string>; input?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, RELAY_HOME: options.home, RELAY_PASSWORD: "", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** A `--json` result parsed; throws with the CLI's stderr when it did not exit 0. */
export function parseJsonResult<T>(r: CliResult, args: string[]): T {
  if (r.code !== 0) throw new Error(`relay ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
