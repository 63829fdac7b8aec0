// Connector records as JSON files under RELAY_HOME/records/<Kind>/<id>.json, written atomically.
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { RecordStore } from "#core/ports.ts";
import { recordId } from "../memory/record-store.ts";
import { writeFileDurably } from "./durable-file.ts";

/** File names keep the id readable but safe: lower case, and anything outside [a-z0-9._-] percent-encoded. */
export function fileNameForId(id: string): string {
  return `${id.toLowerCase().replace(/[^a-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}.json`;
}

export class LocalRecordStore implements RecordStore {
  readonly dir: string;
  readonly #onInvalid: (path: string, error: Error) => void;

  /** `onInvalid` hears about files that are not JSON; they are skipped, the rest still load. */
  constructor(dir: string, onInvalid: (path: string, error: Error) => void = () => {}) {
    this.dir = dir;
    this.#onInvalid = onInvalid;
  }

  async list(): Promise<unknown[]> {
    await mkdir(this.dir, { recursive: true });
    const out: unknown[] = [];
    for (const kind of (await readdir(this.dir, { withFileTypes: true })).filter(
      (d) => d.isDirectory() && !d.name.startsWith("."),
    )) {
      for (const f of (await readdir(join(this.dir, kind.name)))
        .filter((n) => n.endsWith(".json"))
        .sort()) {
        const path = join(this.dir, kind.name, f);
        try {
          out.push(JSON.parse(await readFile(path, "utf8")));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT")
            this.#onInvalid(path, error as Error);
        }
      }
    }
    return out;
  }

  async get(kind: string, id: string): Promise<unknown | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, kind, fileNameForId(id)), "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async put(record: Record<string, unknown>): Promise<void> {
    const kind = String(record.kind);
    const dir = join(this.dir, kind);
    const tmpDir = join(this.dir, ".tmp");
    await mkdir(dir, { recursive: true });
    await mkdir(tmpDir, { recursive: true });
    await writeFileDurably(
      dir,
      fileNameForId(recordId(record)),
      `${JSON.stringify(record, null, 2)}\n`,
      { tmpDir, mode: 0o600 },
    );
  }

  async delete(kind: string, id: string): Promise<boolean> {
    try {
      await rm(join(this.dir, kind, fileNameForId(id)));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
  }
}
