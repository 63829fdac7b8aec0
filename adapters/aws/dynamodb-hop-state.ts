// Next-hop state in DynamoDB (items of the Limits table): one conditional PutItem per change, TTL for clean-up.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { HopStateStore, Versioned } from "#core/next-hop/ports.ts";
import { nextVersion } from "#core/next-hop/ports.ts";
import type { Clock } from "#core/ports.ts";
import { LIMITS_TABLE } from "./table-design.ts";

export interface DynamoHopStateStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock;
}

/*
 * The Limits table already holds short-lived shared counters with a TTL and on-demand capacity;
 * next-hop documents are the same kind of item (`hop:<next hop>`, `host:<name>:<port>`), so the
 * deliver function gets that table rather than a new one. `state` is the JSON document, `version`
 * the number the next conditional write must name, `expiresAt` epoch seconds for TTL.
 */
export class DynamoHopStateStore implements HopStateStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: Clock;

  constructor(options: DynamoHopStateStoreOptions) {
    this.#doc = DynamoDBDocumentClient.from(options.client);
    this.#table = options.tableName;
    this.#clock = options.clock ?? { now: () => new Date() };
  }

  async read<T>(key: string): Promise<Versioned<T> | undefined> {
    const r = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: { [LIMITS_TABLE.partitionKey]: key },
        ConsistentRead: true,
      }),
    );
    const item = r.Item;
    if (!item || typeof item.state !== "string") return undefined;
    const expires = Number(item[LIMITS_TABLE.ttlAttribute] ?? 0) * 1000;
    if (expires <= this.#clock.now().getTime()) return undefined;
    return { state: JSON.parse(item.state) as T, version: Number(item.version) };
  }

  async write<T>(key: string, state: T, version: number, expiresAt: Date): Promise<boolean> {
    const nowMs = this.#clock.now().getTime();
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            [LIMITS_TABLE.partitionKey]: key,
            state: JSON.stringify(state),
            version: nextVersion(version, nowMs),
            [LIMITS_TABLE.ttlAttribute]: Math.ceil(expiresAt.getTime() / 1000),
          },
          ConditionExpression:
            version === 0 ? "attribute_not_exists(#k) OR #e <= :now" : "#v = :v AND #e > :now",
          ExpressionAttributeNames: {
            ...(version === 0 ? { "#k": LIMITS_TABLE.partitionKey } : { "#v": "version" }),
            "#e": LIMITS_TABLE.ttlAttribute,
          },
          ExpressionAttributeValues: {
            ":now": Math.floor(nowMs / 1000),
            ...(version === 0 ? {} : { ":v": version }),
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }
}
