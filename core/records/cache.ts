// A cached, validated view of the record store that refreshes after a short TTL, so edits made in
// the console or with the CLI take effect without a restart and a bad record never stops the relay.
import type { Log } from "../log.ts";
import type { Clock, RecordStore } from "../ports.ts";
import { formatProblem, type RecordProblem } from "./index.ts";
import { buildRecordSet, type RecordSet } from "./record-set.ts";

export interface RecordCacheOptions {
  ttlMs: number;
  clock?: Clock;
  /** Called once for each problem the first time it is seen, e.g. to log it with its key and field. */
  onProblem?: (problem: RecordProblem, text: string) => void;
  /** Called when the store cannot be read; the last good set stays in use. */
  onError?: (error: unknown) => void;
}

/**
 * How every process logs what its record cache finds: each bad record once, at warn, with its key
 * and field (the cache reports it the first time it is seen, so nothing else logs it again); a
 * store that cannot be read at error, while the last good set stays in use.
 */
export function recordCacheLogging(log: Log): Pick<RecordCacheOptions, "onProblem" | "onError"> {
  return {
    onProblem: (p, text) =>
      log.warn("record skipped", { record: p.record, field: p.field, problem: text }),
    onError: (error) => log.error("records could not be read; using the last good set", { error }),
  };
}

export class RecordCache {
  readonly #store: RecordStore;
  readonly #options: RecordCacheOptions;
  readonly #clock: Clock;
  #set: RecordSet | undefined;
  #loadedAt = 0;
  #loading: Promise<RecordSet> | undefined;
  #reported = new Set<string>();

  constructor(store: RecordStore, options: RecordCacheOptions) {
    this.#store = store;
    this.#options = options;
    this.#clock = options.clock ?? { now: () => new Date() };
  }

  /** The current record set, reloaded when older than the TTL. Rejects only if no set was ever loaded. */
  async get(): Promise<RecordSet> {
    const age = this.#clock.now().getTime() - this.#loadedAt;
    if (this.#set && age < this.#options.ttlMs) return this.#set;
    return this.refresh();
  }

  /** The last loaded set without waiting (undefined before the first load). */
  get current(): RecordSet | undefined {
    return this.#set;
  }

  /** Reloads now; concurrent callers share one load. */
  refresh(): Promise<RecordSet> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<RecordSet> {
    try {
      const set = buildRecordSet(await this.#store.list());
      const seen = new Set<string>();
      for (const p of set.problems) {
        const text = formatProblem(p);
        seen.add(text);
        if (!this.#reported.has(text)) this.#options.onProblem?.(p, text);
      }
      this.#reported = seen;
      this.#set = set;
      this.#loadedAt = this.#clock.now().getTime();
      return set;
    } catch (error) {
      this.#options.onError?.(error);
      if (this.#set) return this.#set;
      throw error;
    }
  }
}
