// In-memory claim-check store for message bodies, for tests.
import { NotFoundError } from "#core/errors.ts";
import type { MessageStore } from "#core/ports.ts";

export class MemoryMessageStore implements MessageStore {
  readonly bodies = new Map<string, Uint8Array>();
  async put(key: string, body: Uint8Array): Promise<void> {
    this.bodies.set(key, new Uint8Array(body));
  }
  async get(key: string): Promise<Uint8Array> {
    const b = this.bodies.get(key);
    if (!b) throw new NotFoundError(`no message body ${key}`);
    return new Uint8Array(b);
  }
  async delete(key: string): Promise<void> {
    this.bodies.delete(key);
  }
}
