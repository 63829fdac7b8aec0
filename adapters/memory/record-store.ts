// In-memory record store holding raw records, for tests.

import type { RecordStore } from "#core/ports.ts";
import { RECORD_ID_FIELD, type RecordKind } from "#core/records/index.ts";

const keyOf = (kind: string, id: string) => `${kind}\u0000${id.toLowerCase()}`;

export function recordId(record: Record<string, unknown>): string {
  const field = RECORD_ID_FIELD[record.kind as RecordKind] ?? "name";
  return String(record[field] ?? "");
}

export class MemoryRecordStore implements RecordStore {
  readonly #records = new Map<string, Record<string, unknown>>();
  constructor(initial: Record<string, unknown>[] = []) {
    for (const r of initial)
      this.#records.set(keyOf(String(r.kind), recordId(r)), structuredClone(r));
  }
  async list(): Promise<unknown[]> {
    return [...this.#records.values()].map((r) => structuredClone(r));
  }
  async get(kind: string, id: string): Promise<unknown | undefined> {
    const r = this.#records.get(keyOf(kind, id));
    return r ? structuredClone(r) : undefined;
  }
  async put(record: Record<string, unknown>): Promise<void> {
    this.#records.set(keyOf(String(record.kind), recordId(record)), structuredClone(record));
  }
  async delete(kind: string, id: string): Promise<boolean> {
    return this.#records.delete(keyOf(kind, id));
  }
}
