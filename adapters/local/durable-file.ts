// Durable file writes for local mode: write to a temporary name, fsync, rename, fsync the directory.
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * Batches directory fsyncs: one fsync serves every rename that completed before it started, so
 * concurrent writers share the cost (group commit) without any of them resolving early.
 */
export class DirectorySync {
  readonly #dir: string;
  #waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  #running = false;

  constructor(dir: string) {
    this.#dir = dir;
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      if (!this.#running) void this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    while (this.#waiters.length > 0) {
      const batch = this.#waiters.splice(0);
      try {
        const dh = await open(this.#dir, "r");
        try {
          await dh.sync();
        } finally {
          await dh.close();
        }
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    this.#running = false;
  }
}

/**
 * Writes `data` to `dir/name` so that it is either absent or complete after a crash: the bytes go
 * to `tmpDir` (same file system), are fsynced, renamed into place, and the directory is fsynced.
 */
export async function writeFileDurably(
  dir: string,
  name: string,
  data: string | Uint8Array,
  options: { tmpDir: string; dirSync?: DirectorySync; fsync?: boolean; mode?: number },
): Promise<void> {
  const fsync = options.fsync ?? true;
  const tmpPath = join(options.tmpDir, `${name}.${process.pid}.${crypto.randomUUID().slice(0, 8)}`);
  try {
    const fh = await open(tmpPath, "wx", options.mode ?? 0o600);
    try {
      await fh.writeFile(data);
      if (fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmpPath, join(dir, name));
  } catch (error) {
    await rm(tmpPath, { force: true }).catch(() => {});
    throw error;
  }
  if (fsync) await (options.dirSync ?? new DirectorySync(dir)).sync();
}
