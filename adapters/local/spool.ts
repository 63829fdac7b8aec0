// Durable on-disk queue with SQS semantics (delay, visibility timeout, receive count, dead-letter)
// for local mode: a message is written and fsynced, file and directory, before `send` resolves.
import { EventEmitter } from "node:events";
import { mkdir, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
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
 */

interface Entry {
  id: string;
  file: string;
  visibleAt: number;
  receiveCount: number;
  sentAt: number;
  handle?: string;
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

const systemClock: Clock = { now: () => new Date() };
const fileName = (e: Pick<Entry, "id" | "visibleAt" | "receiveCount">) =>
  `${e.id}~${e.visibleAt}~${e.receiveCount}`;

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
    for (const f of await readdir(dir)) {
      const m = /^([A-Za-z0-9-]+)~(\d+)~(\d+)$/.exec(f);
      if (!m) continue;
      const id = m[1] ?? "";
      q.#entries.set(id, {
        id,
        file: f,
        visibleAt: Number(m[2]),
        receiveCount: Number(m[3]),
        sentAt: 0,
      });
    }
    // Oldest first, so recovered mail keeps its order roughly.
    const sorted = [...q.#entries.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    q.#entries.clear();
    for (const e of sorted) q.#entries.set(e.id, e);
    return q;
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
    try {
      await writeFileDurably(this.dir, entry.file, text, {
        tmpDir: this.#tmp,
        dirSync: this.#dirSync,
        fsync: this.#fsync,
      });
    } catch (error) {
      // The rename may have happened before the directory sync failed: take the message back out.
      await rm(join(this.dir, entry.file), { force: true }).catch(() => {});
      throw new QueueUnavailableError(
        `could not spool message in ${this.dir}: ${(error as Error).message}`,
      );
    }
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
    try {
      await rename(join(this.dir, entry.file), join(this.dir, file));
    } catch {
      return false; // deleted meanwhile
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
    this.#forget(e);
    await unlink(join(this.dir, e.file)).catch(() => {});
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
        this.#events.off("available", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.#events.on("available", done);
      signal?.addEventListener("abort", done);
    });
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
    this.#forget(e);
    await unlink(join(this.dir, e.file)).catch(() => {});
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
