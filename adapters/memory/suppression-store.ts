// In-memory suppression list for one process: unit tests and the test relay.
import type { Clock } from "#core/ports.ts";
import {
  type SuppressionEntry,
  type SuppressionStore,
  suppressionKey,
  suppressionLive,
} from "#core/suppression/list.ts";

export class MemorySuppressionStore implements SuppressionStore {
  readonly #entries = new Map<string, SuppressionEntry>();
  readonly #clock: Clock;

  constructor(clock: Clock = { now: () => new Date() }) {
    this.#clock = clock;
  }

  async put(entry: SuppressionEntry): Promise<void> {
    const recipient = suppressionKey(entry.recipient);
    this.#entries.set(recipient, { ...entry, recipient });
  }

  async get(recipient: string): Promise<SuppressionEntry | undefined> {
    const e = this.#entries.get(suppressionKey(recipient));
    return e && suppressionLive(e, this.#clock.now()) ? { ...e } : undefined;
  }

  async list(): Promise<SuppressionEntry[]> {
    const now = this.#clock.now();
    return [...this.#entries.values()]
      .filter((e) => suppressionLive(e, now))
      .sort((a, b) => a.recipient.localeCompare(b.recipient))
      .map((e) => ({ ...e }));
  }

  async delete(recipient: string): Promise<boolean> {
    const live = await this.get(recipient);
    this.#entries.delete(suppressionKey(recipient));
    return live !== undefined;
  }
}
