// MtaStsPolicyStore on the tracking table: one item per recipient domain, shared by every deliver invocation.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { CachedMtaStsPolicy } from "#core/tls-policy/mta-sts.ts";
import type { MtaStsPolicyStore } from "#core/tls-policy/ports.ts";

export interface DynamoMtaStsPolicyStoreOptions {
  client: DynamoDBClient;
  /** The tracking table (see TRACKING_TABLE in table-design.ts: `MTASTS#<domain>` / `POLICY`). */
  tableName: string;
}

const key = (domain: string) => ({ pk: `MTASTS#${domain.toLowerCase()}`, sk: "POLICY" });

/**
 * Last writer wins: two invocations that fetch the same policy at once write the same content.
 * `expiresAt` (TTL) removes an entry a day after max_age, when no delivery has refreshed it.
 */
export class DynamoMtaStsPolicyStore implements MtaStsPolicyStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoMtaStsPolicyStoreOptions) {
    this.#table = options.tableName;
    this.#doc = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async get(domain: string): Promise<CachedMtaStsPolicy | undefined> {
    const out = await this.#doc.send(
      new GetCommand({ TableName: this.#table, Key: key(domain), ConsistentRead: true }),
    );
    const policy = out.Item?.policy;
    return typeof policy === "string" ? (JSON.parse(policy) as CachedMtaStsPolicy) : undefined;
  }

  async put(policy: CachedMtaStsPolicy): Promise<void> {
    const expiresAt = Math.floor(Date.parse(policy.expiresAt) / 1000) + 86_400;
    await this.#doc.send(
      new PutCommand({
        TableName: this.#table,
        Item: { ...key(policy.domain), policy: JSON.stringify(policy), expiresAt },
      }),
    );
  }
}
