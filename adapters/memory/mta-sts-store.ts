// MtaStsPolicyStore in memory, for unit tests and single-process use.
import type { CachedMtaStsPolicy } from "#core/tls-policy/mta-sts.ts";
import type { MtaStsPolicyStore } from "#core/tls-policy/ports.ts";

export class MemoryMtaStsPolicyStore implements MtaStsPolicyStore {
  readonly #policies = new Map<string, CachedMtaStsPolicy>();

  async get(domain: string): Promise<CachedMtaStsPolicy | undefined> {
    const p = this.#policies.get(domain.toLowerCase());
    return p ? structuredClone(p) : undefined;
  }

  async put(policy: CachedMtaStsPolicy): Promise<void> {
    this.#policies.set(policy.domain.toLowerCase(), structuredClone(policy));
  }
}
