// Daily JSON-lines files for local mode's protocol logs (Exchange's SmtpReceive / SmtpSend folders).
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";

/**
 * Appends one JSON object per line to `<dir>/<prefix>-YYYYMMDD.jsonl`, opening a new file when the
 * UTC day changes. Writes never throw into the caller: a log that cannot be written must not break
 * a mail session.
 */
export class DailyJsonLog {
  readonly #dir: string;
  readonly #prefix: string;
  #day = "";
  #stream: WriteStream | undefined;

  constructor(dir: string, prefix: string) {
    this.#dir = dir;
    this.#prefix = prefix;
    mkdirSync(dir, { recursive: true });
  }

  write(entry: object): void {
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, "");
    if (day !== this.#day) {
      this.#stream?.end();
      this.#day = day;
      this.#stream = createWriteStream(join(this.#dir, `${this.#prefix}-${day}.jsonl`), {
        flags: "a",
        mode: 0o640,
      });
      this.#stream.on("error", () => {});
    }
    this.#stream?.write(`${JSON.stringify(entry)}\n`);
  }

  close(): Promise<void> {
    const s = this.#stream;
    this.#stream = undefined;
    return new Promise((resolve) => (s ? s.end(resolve) : resolve()));
  }
}
