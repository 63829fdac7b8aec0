// Postfix's load tools as benchmark parts: smtp-sink (the receiving end, counting messages) and smtp-source (the sender).
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";

export interface SmtpSink {
  readonly port: number;
  readonly pid: number;
  /** Messages the sink has accepted so far (its `-c` counter). */
  count(): number;
  stop(): Promise<void>;
}

/** smtp-sink refuses to run as root unless told which user to become. */
const userArgs = () => (process.getuid?.() === 0 ? ["-u", "nobody"] : []);

export async function startSmtpSink(port: number): Promise<SmtpSink> {
  const child = spawn("smtp-sink", ["-c", ...userArgs(), `127.0.0.1:${port}`, "1000"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let count = 0;
  let tail = "";
  let err = "";
  child.stdout.setEncoding("latin1");
  child.stdout.on("data", (chunk: string) => {
    // Counters are rewritten in place with CR: keep the last complete "mesg=N".
    tail = (tail + chunk).slice(-400);
    const all = [...tail.matchAll(/mesg=(\d+)/g)];
    const last = all.at(-1);
    if (last) count = Math.max(count, Number(last[1]));
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitForPort(port, 5000, () => child.exitCode !== null).catch((error: Error) => {
    throw new Error(`smtp-sink did not start: ${error.message} ${err}`);
  });
  return {
    port,
    pid: child.pid ?? 0,
    count: () => count,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface SourceRun {
  ms: number;
  code: number | null;
  stderr: string;
}

/** Runs smtp-source to completion: `-l size -m count -f from -t to` plus the shape arguments. */
export function runSmtpSource(
  port: number,
  shape: string[],
  o: { messages: number; size: number; from: string; to: string; timeoutMs: number },
): Promise<SourceRun> {
  const args = [
    ...shape,
    "-l",
    String(o.size),
    "-m",
    String(o.messages),
    "-f",
    o.from,
    "-t",
    o.to,
    `127.0.0.1:${port}`,
  ];
  return timed("smtp-source", args, o.timeoutMs);
}

function timed(cmd: string, args: string[], timeoutMs: number): Promise<SourceRun> {
  const t0 = performance.now();
  const child: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) => {
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, code, stderr: stderr.slice(-2000) });
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  gaveUp: () => boolean = () => false,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && !gaveUp()) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port}`);
}
