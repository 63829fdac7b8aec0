// MtaStsPolicyStore for local mode: one SQLite table (node:sqlite) beside tracking, shared by every worker of the relay.
import type { DatabaseSync } from "node:sqlite";
import type { CachedMtaStsPolicy } from "#core/tls-policy/mta-sts.ts";
import type { MtaStsPolicyStore } from "#core/tls-policy/ports.ts";
import { openDatabase } from "./sqlite.ts";

export class LocalMtaStsPolicyStore implements MtaStsPolicyStore {
  readonly #db: DatabaseSync;

  /** `path` may be the tracking database: the table is separate and writes are single statements. */
  constructor(path: string) {
    this.#db = openDatabase(
      path,
      `
      CREATE TABLE IF NOT EXISTS mta_sts_policies (domain TEXT PRIMARY KEY, policy TEXT NOT NULL);
      `,
    );
  }

  async get(domain: string): Promise<CachedMtaStsPolicy | undefined> {
    const row = this.#db
      .prepare("SELECT policy FROM mta_sts_policies WHERE domain = ?")
      .get(domain.toLowerCase()) as { policy: string } | undefined;
    return row ? (JSON.parse(row.policy) as CachedMtaStsPolicy) : undefined;
  }

  async put(policy: CachedMtaStsPolicy): Promise<void> {
    this.#db
      .prepare(
        "INSERT INTO mta_sts_policies (domain, policy) VALUES (?, ?) ON CONFLICT(domain) DO UPDATE SET policy = excluded.policy",
      )
      .run(policy.domain.toLowerCase(), JSON.stringify(policy));
  }

  close(): void {
    this.#db.close();
  }
}
