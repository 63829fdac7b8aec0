// Starts local mode as a child process the way the README says (`npm start` with RELAY_HOME), and stops or kills it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";

export interface RelayProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the banner has been printed. */
  ready: Promise<void>;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

const ROOT = join(import.meta.dirname, "..", "..");

export function startRelayProcess(home: string, env: Record<string, string> = {}): RelayProcess {
  const child = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    // No console unless the test asks for one: parallel relays would all want 127.0.0.1:2580.
    env: { ...process.env, RELAY_CONSOLE_PORT: "0", RELAY_HOME: home, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => resolve(code)),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (out.includes("connector-relay is running")) {
        clearInterval(check);
        resolve();
      }
    }, 25);
    void exited.then((code) => {
      clearInterval(check);
      reject(new Error(`relay exited with ${code} before it was ready:\n${out}\n${err}`));
    });
  });
  ready.catch(() => {});
  // npm start runs node as a child of npm: signal the whole process group.
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    ready,
    exited,
    async stop() {
      signal("SIGTERM");
      return exited;
    },
    async kill() {
      signal("SIGKILL");
      await exited;
    },
  };
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A receive connector for apps on loopback: anonymous, allowed to relay (Exchange's anonymous relay connector). */
export function appsConnector(
  port: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    kind: "ReceiveConnector",
    name: "Apps",
    bindings: [`127.0.0.1:${port}`],
    remoteIpRanges: ["127.0.0.0/8"],
    authMechanisms: ["None"],
    grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
    tarpitInterval: 0,
    ...extra,
  };
}

/** A send connector for every domain through one smart host ("127.0.0.1:PORT"). */
export function smartHostConnector(hostPort: string, name = "Smart Host"): Record<string, unknown> {
  return {
    kind: "SendConnector",
    name,
    addressSpaces: [{ domain: "*", cost: 1 }],
    dnsRoutingEnabled: false,
    smartHosts: [hostPort],
  };
}

/** Writes records into RELAY_HOME before the first start, as `relay ... new` would. */
export async function writeRecords(
  home: string,
  records: Array<Record<string, unknown>>,
): Promise<void> {
  for (const r of records) {
    const kind = String(r.kind);
    const id = String(r.name ?? r.domain)
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
    await mkdir(join(home, "records", kind), { recursive: true });
    await writeFile(join(home, "records", kind, `${id}.json`), JSON.stringify(r));
  }
}

export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
