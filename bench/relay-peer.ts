// connector-relay as the benchmark subject: local mode (`npm start`'s entry) as a child process on its own RELAY_HOME.
import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { QUEUE, relayHome } from "#local/home.ts";
import { appsConnector, smartHostConnector } from "#test/support/fault-relay.ts";
import { writeRecords } from "#test/support/relay-process.ts";
import { waitForPort } from "./smtp-tools.ts";

export interface RelayPeerOptions {
  /** RELAY_HOME (created); the process log goes to `<home>/relay.log`. */
  home: string;
  port: number;
  /** The smart host every message goes to: "127.0.0.1:PORT". */
  smartHost: string;
  /** Node flags after the start script's, e.g. ["--cpu-prof", "--cpu-prof-dir=..."]. */
  nodeFlags?: string[];
}

export interface RelayPeer {
  readonly port: number;
  readonly pid: number;
  /** Messages in the submission and delivery queues (0 when the relay is idle). */
  queued(): number;
  stop(): Promise<void>;
}

const ROOT = join(import.meta.dirname, "..");

/** An anonymous relay connector for the load and one smart-host connector to the sink. */
export function benchRecords(port: number, smartHost: string): Array<Record<string, unknown>> {
  return [
    { ...appsConnector(port), name: "Load", maxInboundConnectionPerSource: 100 },
    smartHostConnector(smartHost, "Sink"),
  ];
}

/** Rows of the submission and delivery queues, read beside the running relay (WAL). */
function queuedIn(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db
      .prepare("SELECT COUNT(*) AS n FROM messages WHERE queue IN (?, ?)")
      .get(QUEUE.submission, QUEUE.delivery) as { n: number } | undefined;
    return Number(row?.n ?? 0);
  } catch {
    return 0; // not created yet
  } finally {
    db.close();
  }
}

/**
 * The node flags of package.json's start script (`node <flags> local/main.ts`): the bench runs the
 * relay as `npm start` does, memory limits included.
 */
export function startScriptFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    scripts: { start: string };
  };
  const words = pkg.scripts.start.split(/\s+/);
  return words.slice(words.indexOf("node") + 1, words.indexOf("local/main.ts"));
}

export async function startRelayPeer(o: RelayPeerOptions): Promise<RelayPeer> {
  await mkdir(o.home, { recursive: true });
  await writeRecords(o.home, benchRecords(o.port, o.smartHost));
  const log = openSync(join(o.home, "relay.log"), "a");
  // The pinned Node running this script, on the same entry `npm start` runs (no npm in between,
  // so the pid is the relay's own and its CPU time can be read).
  // Later flags win: a bench may override the start script's (e.g. --max-semi-space-size).
  const flags = [...startScriptFlags(), ...(o.nodeFlags ?? [])];
  const child = spawn(process.execPath, [...flags, "local/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, RELAY_HOME: o.home },
    stdio: ["ignore", log, log],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitForPort(o.port, 30_000, () => child.exitCode !== null).catch((error: Error) => {
    throw new Error(`relay did not start (see ${join(o.home, "relay.log")}): ${error.message}`);
  });
  return {
    port: o.port,
    pid: child.pid ?? 0,
    queued: () => queuedIn(relayHome(o.home).queues),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
