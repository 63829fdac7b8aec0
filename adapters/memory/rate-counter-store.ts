// In-memory rate counters for one process: unit tests, and a listener started without a shared store.
import type { Clock, RateCount, RateCounterStore } from "#core/ports.ts";

export class MemoryRateCounterStore implements RateCounterStore {
  readonly #counters = new Map<string, RateCount>();
  readonly #clock: Clock;

  constructor(clock: Clock = { now: () => new Date() }) {
    this.#clock = clock;
  }

  async increment(key: string, windowSeconds: number, amount = 1): Promise<RateCount> {
    const now = this.#clock.now().getTime();
    const live = this.#live(key, now);
    if (!live && amount < 0) return { count: 0, expiresAt: new Date(now) };
    const next = live
      ? { count: live.count + amount, expiresAt: live.expiresAt }
      : { count: amount, expiresAt: new Date(now + windowSeconds * 1000) };
    this.#counters.set(key, next);
    if (this.#counters.size > 100_000) this.#sweep(now);
    return { ...next };
  }

  async get(key: string): Promise<RateCount | undefined> {
    const live = this.#live(key, this.#clock.now().getTime());
    return live ? { ...live } : undefined;
  }

  async delete(key: string): Promise<void> {
    this.#counters.delete(key);
  }

  #live(key: string, now: number): RateCount | undefined {
    const c = this.#counters.get(key);
    return c && c.expiresAt.getTime() > now ? c : undefined;
  }

  /** Keys of a guessing attacker are many and short-lived: drop the expired ones. */
  #sweep(now: number): void {
    for (const [k, c] of this.#counters) if (c.expiresAt.getTime() <= now) this.#counters.delete(k);
  }
}
