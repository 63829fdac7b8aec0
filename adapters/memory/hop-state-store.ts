// Next-hop state in one process's memory: unit tests, and a runtime started without a shared store.
import type { HopStateStore, Versioned } from "#core/next-hop/ports.ts";
import { nextVersion } from "#core/next-hop/ports.ts";
import type { Clock } from "#core/ports.ts";

export class MemoryHopStateStore implements HopStateStore {
  readonly #docs = new Map<string, { json: string; version: number; expiresAt: number }>();
  readonly #clock: Clock;

  constructor(clock: Clock = { now: () => new Date() }) {
    this.#clock = clock;
  }

  async read<T>(key: string): Promise<Versioned<T> | undefined> {
    const d = this.#live(key);
    return d ? { state: JSON.parse(d.json) as T, version: d.version } : undefined;
  }

  async write<T>(key: string, state: T, version: number, expiresAt: Date): Promise<boolean> {
    if ((this.#live(key)?.version ?? 0) !== version) return false;
    const now = this.#clock.now().getTime();
    this.#docs.set(key, {
      json: JSON.stringify(state),
      version: nextVersion(version, now),
      expiresAt: expiresAt.getTime(),
    });
    return true;
  }

  #live(key: string) {
    const d = this.#docs.get(key);
    return d && d.expiresAt > this.#clock.now().getTime() ? d : undefined;
  }
}
