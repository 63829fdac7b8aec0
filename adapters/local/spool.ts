// Durable on-disk queue with SQS semantics (delay, visibility timeout, receive count, dead-letter)
// for local mode: a message is written and fsynced, file and directory, before `send` resolves.
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { access, mkdir, readdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { QueueUnavailableError } from "#core/errors.ts";
import type { Clock, QueueProducer } from "#core/ports.ts";
import type { QueueConsumer, ReceivedMessage } from "../queue-consumer.ts";
import { DirectorySync, writeFileDurably } from "./durable-file.ts";

/*
 * Layout: one file per message, `<id>~<visibleAtMs>~<receiveCount>`, holding JSON
 * `{ id, sentAt, body }`. A receive or visibility change renames the file, so after a crash
 * (kill -9 or power loss) every message comes back with the visibility and receive count it last
 * had: in-flight messages reappear when their visibility timeout ends, as in SQS, and a message
 * that keeps crashing the process still reaches the dead-letter queue. New files are written in
 * `.tmp/` and renamed in only after fsync, so a half-written message is never visible.
 *
 * Another process (the admin CLI, beside a running relay) never opens a live queue: `open` clears
 * `.tmp/`, which would destroy writes in progress. It reads with `inspect`, writes with `drop` (the
 * same durable write) and removes with `discard`; the owning queue notices files added or removed
 * by others when the directory's mtime moves (checked at most once per RESCAN_INTERVAL_MS, in
 * `receive` and while a worker idles in `waitForMessages`) and adopts or forgets them.
 */

interface Entry {
  id: string;
  file: string;
  visibleAt: number;
  receiveCount: number;
  sentAt: number;
  handle?: string;
  /** A rename of this entry's file is under way (its old name may be gone before `file` changes). */
  moving?: boolean;
  /** The file's JSON as written by this process, while it fits the cache budget. */
  text?: string;
}

export interface LocalQueueOptions {
  clock?: Clock;
  visibilityTimeoutSeconds?: number;
  /** After this many receives a message moves to `deadLetter` instead (SQS redrive policy). */
  maxReceiveCount?: number;
  deadLetter?: LocalQueue<unknown>;
  /** fsync file and directory before `send` resolves (default true; only tests of other things turn it off). */
  fsync?: boolean;
  /** Characters of sent messages kept in memory for their receive (default 16 Mi; 0: always read the file). */
  cacheChars?: number;
}

export interface QueueStats {
  visible: number;
  delayed: number;
  inFlight: number;
  total: number;
}

/**
 * A message this process wrote is kept in memory too, so receiving it does not read back the file
 * it has just written (a third of the spool's file work per message); past this many characters of
 * held messages, receives read from disk, as they do after a restart.
 */
const DEFAULT_CACHE_CHARS = 16 * 1024 * 1024;

/** How often a live queue looks for files another process added or removed. */
export const RESCAN_INTERVAL_MS = 1000;
/**
 * A directory mtime this recent may still change within the same timestamp tick without moving,
 * so it is not trusted as "nothing new since"; the next check scans again.
 */
const MTIME_SETTLE_NS = 2_000_000_000n;

/** A message file as another process sees it, without opening the queue. */
export interface QueueFile {
  messageId: string;
  file: string;
  visibleAt: number;
  receiveCount: number;
}

export interface StoredMessage<T> extends QueueFile {
  sentAt: number;
  body: T;
}

const systemClock: Clock = { now: () => new Date() };
const fileName = (e: Pick<Entry, "id" | "visibleAt" | "receiveCount">) =>
  `${e.id}~${e.visibleAt}~${e.receiveCount}`;
const FILE_NAME = /^([A-Za-z0-9-]+)~(\d+)~(\d+)$/;

function parseFileName(f: string): QueueFile | undefined {
  const m = FILE_NAME.exec(f);
  if (!m) return undefined;
  return { messageId: m[1] ?? "", file: f, visibleAt: Number(m[2]), receiveCount: Number(m[3]) };
}

/** The message files in `dir`, oldest id first; none when the directory does not exist. */
async function queueFiles(dir: string): Promise<QueueFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names
    .map(parseFileName)
    .filter((f): f is QueueFile => f !== undefined)
    .sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** How `drop` and `dropFile` write: delay, clock, fsync, and a directory sync shared for group commit. */
export interface DropOptions {
  delaySeconds?: number;
  clock?: Clock;
  fsync?: boolean;
  dirSync?: DirectorySync;
}

export class LocalQueue<T> implements QueueProducer<T>, QueueConsumer<T> {
  readonly dir: string;
  readonly #tmp: string;
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #visibility: number;
  readonly #maxReceive: number | undefined;
  readonly #dlq: LocalQueue<unknown> | undefined;
  readonly #fsync: boolean;
  readonly #events = new EventEmitter();
  readonly #dirSync: DirectorySync;
  #seq = 0;
  readonly #cacheChars: number;
  /** Characters of message text held in entries. */
  #cached = 0;
  /** Ids being written by `send`: on disk before they are in `#entries`, never adopted as foreign. */
  readonly #writing = new Set<string>();
  /**
   * Ids this process deleted or moved out, with when the file was gone (undefined: not yet). A scan
   * whose readdir may predate that must not adopt them back.
   */
  readonly #tombstones = new Map<string, number | undefined>();
  #lastCheck = Number.NEGATIVE_INFINITY;
  #settledMtime: bigint | undefined;
  #checking: Promise<void> | undefined;

  private constructor(dir: string, options: LocalQueueOptions) {
    this.dir = dir;
    this.#tmp = join(dir, ".tmp");
    this.#clock = options.clock ?? systemClock;
    this.#visibility = options.visibilityTimeoutSeconds ?? 30;
    this.#maxReceive = options.maxReceiveCount;
    this.#dlq = options.deadLetter;
    this.#fsync = options.fsync ?? true;
    this.#cacheChars = options.cacheChars ?? DEFAULT_CACHE_CHARS;
    this.#events.setMaxListeners(0);
    this.#dirSync = new DirectorySync(dir);
  }

  /** Opens (creating if needed) the queue in `dir`, recovering every message a previous process left. */
  static async open<T>(dir: string, options: LocalQueueOptions = {}): Promise<LocalQueue<T>> {
    const q = new LocalQueue<T>(dir, options);
    await mkdir(q.#tmp, { recursive: true });
    // Whatever is in .tmp was never acknowledged to anyone: drop it.
    for (const f of await readdir(q.#tmp)) await rm(join(q.#tmp, f), { force: true });
    // Oldest first, so recovered mail keeps its order roughly.
    for (const f of await queueFiles(dir))
      q.#entries.set(f.messageId, {
        id: f.messageId,
        file: f.file,
        visibleAt: f.visibleAt,
        receiveCount: f.receiveCount,
        sentAt: 0,
      });
    return q;
  }

  /**
   * Writes one message into the queue in `dir` without opening it, as durably as `send`: for
   * another process beside the one that owns the queue, which adopts the file on its next check.
   */
  static async drop<T>(dir: string, body: T, options: DropOptions = {}): Promise<string> {
    return (await LocalQueue.dropFile(dir, body, options)).id;
  }

  /**
   * `drop`, also giving the file name and the JSON written, so the owner of the queue can `adopt`
   * the message at once (local mode's listener thread tells the delivery thread this way). Writers
   * that share one `dirSync` share directory fsyncs (group commit).
   */
  static async dropFile<T>(
    dir: string,
    body: T,
    options: DropOptions = {},
  ): Promise<{ id: string; file: string; text: string }> {
    const now = (options.clock ?? systemClock).now().getTime();
    const rand = crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
    const id = `${now.toString(36).padStart(9, "0")}-${(rand % 36 ** 4).toString(36).padStart(4, "0")}-${crypto.randomUUID().slice(0, 8)}`;
    const visibleAt = now + Math.max(0, options.delaySeconds ?? 0) * 1000;
    const tmpDir = join(dir, ".tmp");
    if (!options.dirSync) await mkdir(tmpDir, { recursive: true });
    const file = fileName({ id, visibleAt, receiveCount: 0 });
    const text = JSON.stringify({ id, sentAt: now, body });
    try {
      await writeFileDurably(dir, file, text, {
        tmpDir,
        fsync: options.fsync ?? true,
        ...(options.dirSync ? { dirSync: options.dirSync } : {}),
      });
    } catch (error) {
      await rm(join(dir, file), { force: true }).catch(() => {});
      throw new QueueUnavailableError(
        `could not spool message in ${dir}: ${(error as Error).message}`,
      );
    }
    return { id, file, text };
  }

  /**
   * Takes into the index a file another writer dropped (see `dropFile`), without waiting for the
   * next directory scan; `text` is its JSON when the writer passes it along. Resolves false when the
   * name is not a queue file or the message is already known.
   */
  adopt(file: string, text?: string): boolean {
    const f = parseFileName(file);
    if (!f || this.#entries.has(f.messageId) || this.#tombstones.has(f.messageId)) return false;
    // A directory scan may have adopted, and a worker finished, the message before this call.
    if (!existsSync(join(this.dir, file))) return false;
    const entry: Entry = {
      id: f.messageId,
      file,
      visibleAt: f.visibleAt,
      receiveCount: f.receiveCount,
      sentAt: 0,
    };
    if (text !== undefined && this.#cached + text.length <= this.#cacheChars) {
      entry.text = text;
      this.#cached += text.length;
    }
    this.#entries.set(f.messageId, entry);
    this.#events.emit("available");
    return true;
  }

  /** Every message in `dir` with its body, read without opening the queue and changing nothing. */
  static async inspect<T>(dir: string): Promise<StoredMessage<T>[]> {
    const out: StoredMessage<T>[] = [];
    for (const f of await queueFiles(dir)) {
      try {
        const stored = JSON.parse(await readFile(join(dir, f.file), "utf8"));
        out.push({ ...f, sentAt: stored.sentAt, body: stored.body as T });
      } catch {
        // received, renamed or removed meanwhile: the admin view is a snapshot
      }
    }
    return out;
  }

  /** The message files in `dir` by name only (id, visibility, receive count): depths without reading bodies. */
  static files(dir: string): Promise<QueueFile[]> {
    return queueFiles(dir);
  }

  /** Removes one message from the queue in `dir` without opening it; resolves whether it was there. */
  static async discard(dir: string, messageId: string): Promise<boolean> {
    for (const f of await queueFiles(dir)) {
      if (f.messageId !== messageId) continue;
      try {
        await unlink(join(dir, f.file));
        return true;
      } catch {
        return false; // renamed by its owner meanwhile, or already gone
      }
    }
    return false;
  }

  #newId(): string {
    // Time first so ids sort by arrival; a counter and random tail keep them unique.
    const t = this.#clock.now().getTime().toString(36).padStart(9, "0");
    const n = (++this.#seq).toString(36).padStart(4, "0");
    return `${t}-${n}-${crypto.randomUUID().slice(0, 8)}`;
  }

  async send(body: T, options: { delaySeconds?: number } = {}): Promise<string> {
    const id = this.#newId();
    const now = this.#clock.now().getTime();
    const entry: Entry = {
      id,
      file: "",
      visibleAt: now + Math.max(0, options.delaySeconds ?? 0) * 1000,
      receiveCount: 0,
      sentAt: now,
    };
    entry.file = fileName(entry);
    const text = JSON.stringify({ id, sentAt: now, body });
    this.#writing.add(id);
    try {
      await writeFileDurably(this.dir, entry.file, text, {
        tmpDir: this.#tmp,
        dirSync: this.#dirSync,
        fsync: this.#fsync,
      });
    } catch (error) {
      // The rename may have happened before the directory sync failed: take the message back out.
      await rm(join(this.dir, entry.file), { force: true }).catch(() => {});
      this.#writing.delete(id);
      throw new QueueUnavailableError(
        `could not spool message in ${this.dir}: ${(error as Error).message}`,
      );
    }
    this.#writing.delete(id);
    if (this.#cached + text.length <= this.#cacheChars) {
      entry.text = text;
      this.#cached += text.length;
    }
    this.#entries.set(id, entry);
    this.#events.emit("available");
    return id;
  }

  async #moveTo(entry: Entry, next: Pick<Entry, "visibleAt" | "receiveCount">): Promise<boolean> {
    const file = fileName({ id: entry.id, ...next });
    entry.moving = true;
    try {
      await rename(join(this.dir, entry.file), join(this.dir, file));
    } catch {
      return false; // deleted meanwhile
    } finally {
      entry.moving = false;
    }
    entry.file = file;
    entry.visibleAt = next.visibleAt;
    entry.receiveCount = next.receiveCount;
    return true;
  }

  async receive(
    max = 10,
    visibilityTimeoutSeconds = this.#visibility,
  ): Promise<ReceivedMessage<T>[]> {
    await this.#checkForeignChanges();
    const now = this.#clock.now().getTime();
    const picked: Entry[] = [];
    for (const e of this.#entries.values()) {
      if (picked.length >= max) break;
      if (e.visibleAt > now || e.handle === "pending") continue;
      e.handle = "pending"; // claimed synchronously so concurrent receives never share a message
      picked.push(e);
    }
    const out: ReceivedMessage<T>[] = [];
    for (const e of picked) {
      if (this.#maxReceive !== undefined && this.#dlq && e.receiveCount >= this.#maxReceive) {
        await this.#deadLetter(e);
        continue;
      }
      const receiveCount = e.receiveCount + 1;
      if (
        !(await this.#moveTo(e, { visibleAt: now + visibilityTimeoutSeconds * 1000, receiveCount }))
      ) {
        e.handle = undefined;
        continue;
      }
      let stored: { sentAt: number; body: T };
      try {
        stored = JSON.parse(e.text ?? (await readFile(join(this.dir, e.file), "utf8")));
      } catch {
        e.handle = undefined;
        continue; // removed while we read it
      }
      e.sentAt = stored.sentAt;
      e.handle = `${e.id}#${receiveCount}`;
      out.push({
        messageId: e.id,
        receiptHandle: e.handle,
        body: stored.body,
        receiveCount,
        sentAt: stored.sentAt,
      });
    }
    return out;
  }

  async #deadLetter(e: Entry): Promise<void> {
    const dlq = this.#dlq;
    if (!dlq) return;
    const now = this.#clock.now().getTime();
    const target = { id: e.id, visibleAt: now, receiveCount: 0, sentAt: e.sentAt, file: "" };
    target.file = fileName(target);
    try {
      await rename(join(this.dir, e.file), join(dlq.dir, target.file));
    } catch {
      e.handle = undefined;
      return;
    }
    this.#forget(e);
    this.#tombstones.set(e.id, Date.now());
    dlq.#entries.set(target.id, target);
    dlq.#events.emit("available");
  }

  #entryFor(receiptHandle: string): Entry | undefined {
    const id = receiptHandle.split("#")[0] ?? "";
    const e = this.#entries.get(id);
    return e && e.handle === receiptHandle ? e : undefined;
  }

  async delete(receiptHandle: string): Promise<void> {
    const e = this.#entryFor(receiptHandle);
    if (!e) return;
    await this.#unlink(e);
  }

  /** Forgets the entry, then removes its file; a scan meanwhile does not take the file for a new one. */
  async #unlink(e: Entry): Promise<void> {
    this.#forget(e);
    this.#tombstones.set(e.id, undefined);
    await unlink(join(this.dir, e.file)).catch(() => {});
    this.#tombstones.set(e.id, Date.now());
  }

  /** Removes the entry and its cached text. */
  #forget(e: Entry): void {
    this.#entries.delete(e.id);
    if (e.text !== undefined) this.#cached -= e.text.length;
    e.text = undefined;
  }

  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    const e = this.#entryFor(receiptHandle);
    if (!e) return;
    await this.#moveTo(e, {
      visibleAt: this.#clock.now().getTime() + seconds * 1000,
      receiveCount: e.receiveCount,
    });
    if (seconds === 0) this.#events.emit("available");
  }

  /**
   * Makes every in-flight message visible now. Local mode calls it once at start, holding the
   * RELAY_HOME lock: whatever a previous process had received died with it, so its mail is retried
   * at once instead of after the visibility timeout. Delayed messages keep their delay.
   */
  async releaseInFlight(): Promise<number> {
    const now = this.#clock.now().getTime();
    let n = 0;
    for (const e of this.#entries.values()) {
      if (e.receiveCount > 0 && e.visibleAt > now && e.handle === undefined) {
        if (await this.#moveTo(e, { visibleAt: now, receiveCount: e.receiveCount })) n++;
      }
    }
    if (n > 0) this.#events.emit("available");
    return n;
  }

  /** Resolves when a message may be available: after a send, or when the next delayed one is due, or after `maxWaitMs`. */
  waitForMessages(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    const now = this.#clock.now().getTime();
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#entries.values())
      if (e.handle !== "pending") next = Math.min(next, e.visibleAt);
    if (next <= now) return Promise.resolve();
    const wait = Math.min(maxWaitMs, next - now);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.#events.off("available", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      // Files dropped by another process wake the waiter through "available" from the scan.
      const poll = setInterval(() => void this.#checkForeignChanges(), RESCAN_INTERVAL_MS);
      this.#events.on("available", done);
      signal?.addEventListener("abort", done);
    });
  }

  /** Scans the directory when its mtime moved, at most once per RESCAN_INTERVAL_MS; never throws. */
  #checkForeignChanges(): Promise<void> {
    const now = performance.now();
    if (this.#checking) return this.#checking;
    if (now - this.#lastCheck < RESCAN_INTERVAL_MS) return Promise.resolve();
    this.#lastCheck = now;
    this.#checking = (async () => {
      try {
        const { mtimeNs } = await stat(this.dir, { bigint: true });
        if (mtimeNs === this.#settledMtime) return;
        const settled = BigInt(Date.now()) * 1_000_000n - mtimeNs > MTIME_SETTLE_NS;
        await this.rescan();
        this.#settledMtime = settled ? mtimeNs : undefined;
      } catch {
        // the directory is unreadable now; the next check tries again
      }
    })().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  /**
   * Brings the index in line with the directory: files another process dropped are adopted, entries
   * whose files another process removed are forgotten. Entries this process is writing, renaming,
   * receiving or has just deleted are left as they are. Resolves what changed.
   */
  async rescan(): Promise<{ adopted: number; forgotten: number }> {
    const started = Date.now();
    const files = await queueFiles(this.dir);
    const seen = new Set(files.map((f) => f.messageId));
    let adopted = 0;
    for (const f of files) {
      const id = f.messageId;
      if (this.#entries.has(id) || this.#writing.has(id)) continue;
      if (this.#tombstones.has(id)) {
        const goneAt = this.#tombstones.get(id);
        if (goneAt === undefined || goneAt >= started) continue;
      }
      const { file, visibleAt, receiveCount } = f;
      this.#entries.set(id, { id, file, visibleAt, receiveCount, sentAt: 0 });
      adopted++;
    }
    let forgotten = 0;
    const busy = (e: Entry) => e.moving === true || e.handle === "pending";
    for (const e of [...this.#entries.values()]) {
      if (seen.has(e.id) || busy(e)) continue;
      const file = e.file;
      // readdir may miss a file renamed while it ran: only a file that is really gone counts.
      if (await exists(join(this.dir, file))) continue;
      if (this.#entries.get(e.id) !== e || e.file !== file || busy(e)) continue;
      this.#forget(e);
      forgotten++;
    }
    for (const [id, goneAt] of this.#tombstones)
      if (goneAt !== undefined && goneAt < started) this.#tombstones.delete(id);
    if (adopted > 0) this.#events.emit("available");
    return { adopted, forgotten };
  }

  stats(): QueueStats {
    const now = this.#clock.now().getTime();
    const s: QueueStats = { visible: 0, delayed: 0, inFlight: 0, total: this.#entries.size };
    for (const e of this.#entries.values()) {
      if (e.visibleAt <= now) s.visible++;
      else if (e.receiveCount > 0) s.inFlight++;
      else s.delayed++;
    }
    return s;
  }

  /** Every message with its body, for admin views; bodies are read from disk. */
  async list(): Promise<
    Array<{ messageId: string; receiveCount: number; visibleAt: number; sentAt: number; body: T }>
  > {
    const out = [];
    for (const e of [...this.#entries.values()]) {
      try {
        const stored = JSON.parse(await readFile(join(this.dir, e.file), "utf8"));
        out.push({
          messageId: e.id,
          receiveCount: e.receiveCount,
          visibleAt: e.visibleAt,
          sentAt: stored.sentAt,
          body: stored.body as T,
        });
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }

  /** Removes one message by id (admin action); resolves whether it was there. */
  async remove(messageId: string): Promise<boolean> {
    const e = this.#entries.get(messageId);
    if (!e) return false;
    await this.#unlink(e);
    return true;
  }

  /** Moves every message of this queue (a dead-letter queue) back to `target` (SQS redrive); resolves how many. */
  async redriveTo(target: LocalQueue<T>): Promise<number> {
    let n = 0;
    for (const m of await this.list()) {
      await target.send(m.body);
      await this.remove(m.messageId);
      n++;
    }
    return n;
  }

  get size(): number {
    return this.#entries.size;
  }
}
