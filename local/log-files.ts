// JSON-lines files for local mode's protocol logs (Exchange's SmtpReceive / SmtpSend folders): daily, rolled at a size, pruned by age and size.
import { createWriteStream, mkdirSync, readdirSync, statSync, type WriteStream } from "node:fs";
import { readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type LogFileInfo, type LogLimits, logFilesToDelete } from "#core/retention.ts";

/** `<prefix>-YYYYMMDD.jsonl`, then `<prefix>-YYYYMMDD-2.jsonl`, -3… once a file reaches its size. */
const fileName = (prefix: string, day: string, n: number) =>
  `${prefix}-${day}${n > 1 ? `-${n}` : ""}.jsonl`;
const filePattern = (prefix: string) => new RegExp(`^${prefix}-(\\d{8})(?:-(\\d+))?\\.jsonl$`);

/**
 * Appends one JSON object per line to the current file of `<dir>/<prefix>-…`, opening a new file
 * when the UTC day changes or the next line would take the file past `maxFileBytes()` (read on
 * every write, so a changed setting applies at once). Writes never throw into the caller: a log
 * that cannot be written must not break a mail session.
 */
export class RollingJsonLog {
  readonly #dir: string;
  readonly #prefix: string;
  readonly #maxFileBytes: () => number;
  #day = "";
  #n = 1;
  #size = 0;
  #stream: WriteStream | undefined;

  constructor(dir: string, prefix: string, maxFileBytes: () => number = () => Infinity) {
    this.#dir = dir;
    this.#prefix = prefix;
    this.#maxFileBytes = maxFileBytes;
    mkdirSync(dir, { recursive: true });
  }

  write(entry: object): void {
    const line = `${JSON.stringify(entry)}\n`;
    const bytes = Buffer.byteLength(line);
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, "");
    if (day !== this.#day) this.#openDay(day);
    if (this.#size > 0 && this.#size + bytes > this.#maxFileBytes()) this.#open(this.#n + 1, 0);
    this.#stream?.write(line);
    this.#size += bytes;
  }

  /** Continues the day's last file (after a restart), or starts the day's first. */
  #openDay(day: string): void {
    this.#day = day;
    const pattern = filePattern(this.#prefix);
    let last = 1;
    try {
      for (const name of readdirSync(this.#dir)) {
        const m = pattern.exec(name);
        if (m?.[1] === day) last = Math.max(last, Number(m[2] ?? 1));
      }
    } catch {}
    let size = 0;
    try {
      size = statSync(join(this.#dir, fileName(this.#prefix, day, last))).size;
    } catch {}
    this.#open(last, size);
  }

  #open(n: number, size: number): void {
    this.#stream?.end();
    this.#n = n;
    this.#size = size;
    this.#stream = createWriteStream(join(this.#dir, fileName(this.#prefix, this.#day, n)), {
      flags: "a",
      mode: 0o640,
    });
    this.#stream.on("error", () => {});
  }

  close(): Promise<void> {
    const s = this.#stream;
    this.#stream = undefined;
    this.#day = "";
    return new Promise((resolve) => (s ? s.end(resolve) : resolve()));
  }
}

/**
 * Deletes the files of one log beyond its max age or its directory size (oldest first; see
 * logFilesToDelete), with asynchronous file calls so the relay's event loop keeps serving. Resolves the
 * names deleted; a file that vanished meanwhile is skipped.
 */
export async function pruneLogFiles(
  dir: string,
  prefix: string,
  limits: LogLimits,
  nowMs: number,
): Promise<string[]> {
  const pattern = filePattern(prefix);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => pattern.test(n));
  const files: LogFileInfo[] = [];
  for (const name of names) {
    const s = await stat(join(dir, name)).catch(() => undefined);
    if (s?.isFile()) files.push({ name, size: s.size, mtimeMs: s.mtimeMs });
  }
  const deleted: string[] = [];
  for (const name of logFilesToDelete(files, limits, nowMs)) {
    if (
      await unlink(join(dir, name)).then(
        () => true,
        () => false,
      )
    )
      deleted.push(name);
  }
  return deleted;
}
