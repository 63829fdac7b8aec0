// In-memory secret store, for tests.
import { NotFoundError } from "#core/errors.ts";
import type { SecretStore, SecretWriter } from "#core/ports.ts";

export class MemorySecretStore implements SecretStore, SecretWriter {
  readonly #secrets: Map<string, string>;
  constructor(secrets: Record<string, string> = {}) {
    this.#secrets = new Map(Object.entries(secrets));
  }
  async get(name: string): Promise<string> {
    const v = this.#secrets.get(name);
    if (v === undefined) throw new NotFoundError(`no secret named ${name}`);
    return v;
  }
  async set(name: string, value: string): Promise<void> {
    this.#secrets.set(name, value);
  }
  async delete(name: string): Promise<boolean> {
    return this.#secrets.delete(name);
  }
}
