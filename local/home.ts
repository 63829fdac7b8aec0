// RELAY_HOME: where local mode keeps its state, and the lock that keeps a second instance out.
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";

export interface RelayHome {
  root: string;
  records: string;
  /** The queue database (SQLite); an older relay's spool directories beside it are imported at start. */
  queues: string;
  bodies: string;
  secrets: string;
  tracking: string;
  /** Rate and AUTH-failure counters (SQLite), shared with the CLI's `user get` / `--unlock`. */
  limits: string;
  /** The suppression list (SQLite), shared with `relay suppression`. */
  suppression: string;
  /** The outbox of delivery events not yet POSTed to their webhooks (SQLite). */
  events: string;
  protocolLogs: string;
  tls: string;
  lock: string;
}

export function relayHome(root = process.env.RELAY_HOME ?? ".relay"): RelayHome {
  const r = resolve(root);
  return {
    root: r,
    records: join(r, "records"),
    queues: join(r, "queues", "queues.db"),
    bodies: join(r, "bodies"),
    secrets: join(r, "secrets"),
    tracking: join(r, "tracking.db"),
    limits: join(r, "limits.db"),
    suppression: join(r, "suppression.db"),
    events: join(r, "events.db"),
    protocolLogs: join(r, "logs", "protocol"),
    tls: join(r, "tls"),
    lock: join(r, "relay.lock"),
  };
}

/** The queues' names in the queue database (an older relay's spool directories had these names). */
export const QUEUE = {
  submission: "submission",
  submissionDlq: "submission-dlq",
  delivery: "delivery",
  deliveryDlq: "delivery-dlq",
} as const;

export class RelayHomeLockedError extends Error {
  override readonly name = "RelayHomeLockedError";
}

async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed process stays signalable as a zombie until it is reaped: on Linux, ask its state.
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return !/^\d+ \(.*\) Z /.test(stat);
}

/**
 * Takes the lock on RELAY_HOME for this process. A lock left by a process that no longer runs
 * (after kill -9 or a power loss) is taken over; one held by a live process is refused.
 */
export async function lockHome(home: RelayHome): Promise<{ release(): Promise<void> }> {
  await mkdir(home.root, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(home.lock, "wx", 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return {
        release: async () => {
          await rm(home.lock, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number((await readFile(home.lock, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && (await alive(pid))) {
        throw new RelayHomeLockedError(
          `another relay (pid ${pid}) is already running on ${home.root}; stop it first, or set RELAY_HOME to another directory`,
        );
      }
      await rm(home.lock, { force: true }); // stale lock from a process that is gone
    }
  }
  throw new RelayHomeLockedError(`could not take the lock ${home.lock}`);
}
