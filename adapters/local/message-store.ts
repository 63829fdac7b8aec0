// Message bodies (the claim-check store) as files under RELAY_HOME/bodies, fsynced before put resolves.
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { NotFoundError } from "#core/errors.ts";
import type { MessageStore } from "#core/ports.ts";
import { DirectorySync, writeFileDurably } from "./durable-file.ts";

const safeKey = (key: string) => {
  if (!/^[A-Za-z0-9._-]+$/.test(key))
    throw new Error(`invalid message store key ${JSON.stringify(key)}`);
  return key;
};

export class LocalMessageStore implements MessageStore {
  readonly dir: string;
  readonly #tmp: string;
  readonly #dirSync: DirectorySync;
  readonly #fsync: boolean;

  private constructor(dir: string, fsync: boolean) {
    this.dir = dir;
    this.#tmp = join(dir, ".tmp");
    this.#dirSync = new DirectorySync(dir);
    this.#fsync = fsync;
  }

  static async open(dir: string, options: { fsync?: boolean } = {}): Promise<LocalMessageStore> {
    const s = new LocalMessageStore(dir, options.fsync ?? true);
    await mkdir(s.#tmp, { recursive: true });
    return s;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    await writeFileDurably(this.dir, safeKey(key), body, {
      tmpDir: this.#tmp,
      dirSync: this.#dirSync,
      fsync: this.#fsync,
    });
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(join(this.dir, safeKey(key))));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT")
        throw new NotFoundError(`no message body ${key}`);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(join(this.dir, safeKey(key)), { force: true });
  }
}
