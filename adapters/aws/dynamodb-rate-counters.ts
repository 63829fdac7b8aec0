// DynamoDB rate counters: atomic ADD within a window, conditional reset once it has ended, TTL for clean-up.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { Clock, RateCount, RateCounterStore } from "#core/ports.ts";
import { LIMITS_TABLE } from "./table-design.ts";

export interface DynamoRateCounterStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock;
}

const conditionFailed = (error: unknown) =>
  (error as Error).name === "ConditionalCheckFailedException";

/*
 * No transactions (dynalite has none) and none needed: each step is one conditional write.
 * 1. UpdateItem `ADD count :n`, `SET expiresAt = if_not_exists(...)`, only while the window is
 *    live or the item absent. Concurrent tasks are serialised by DynamoDB: each sees its own count.
 * 2. The window has ended: PutItem a fresh window, only if the item is still the expired one. When
 *    another task reset it first, step 1 is tried again (and now succeeds).
 */
export class DynamoRateCounterStore implements RateCounterStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: Clock;

  constructor(options: DynamoRateCounterStoreOptions) {
    this.#doc = DynamoDBDocumentClient.from(options.client);
    this.#table = options.tableName;
    this.#clock = options.clock ?? { now: () => new Date() };
  }

  async increment(key: string, windowSeconds: number, amount = 1): Promise<RateCount> {
    const K = LIMITS_TABLE;
    for (let attempt = 0; ; attempt++) {
      const nowMs = this.#clock.now().getTime();
      const now = Math.floor(nowMs / 1000);
      const end = Math.ceil((nowMs + windowSeconds * 1000) / 1000);
      try {
        const r = await this.#doc.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: { [K.partitionKey]: key },
            UpdateExpression: "ADD #c :n SET #e = if_not_exists(#e, :end)",
            // A give-back (negative amount) only ever changes a live window.
            ConditionExpression: amount < 0 ? "#e > :now" : "attribute_not_exists(#e) OR #e > :now",
            ExpressionAttributeNames: { "#c": "count", "#e": K.ttlAttribute },
            ExpressionAttributeValues: { ":n": amount, ":end": end, ":now": now },
            ReturnValues: "ALL_NEW",
          }),
        );
        return toCount(r.Attributes);
      } catch (error) {
        if (!conditionFailed(error) || attempt >= 3) throw error;
        if (amount < 0) return { count: 0, expiresAt: new Date(nowMs) };
      }
      try {
        await this.#doc.send(
          new PutCommand({
            TableName: this.#table,
            Item: { [K.partitionKey]: key, count: amount, [K.ttlAttribute]: end },
            ConditionExpression: "#e <= :now",
            ExpressionAttributeNames: { "#e": K.ttlAttribute },
            ExpressionAttributeValues: { ":now": now },
          }),
        );
        return { count: amount, expiresAt: new Date(end * 1000) };
      } catch (error) {
        if (!conditionFailed(error)) throw error;
      }
    }
  }

  async get(key: string): Promise<RateCount | undefined> {
    const r = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: { [LIMITS_TABLE.partitionKey]: key },
        ConsistentRead: true,
      }),
    );
    if (!r.Item) return undefined;
    const c = toCount(r.Item);
    return c.expiresAt.getTime() > this.#clock.now().getTime() ? c : undefined;
  }

  async delete(key: string): Promise<void> {
    await this.#doc.send(
      new DeleteCommand({ TableName: this.#table, Key: { [LIMITS_TABLE.partitionKey]: key } }),
    );
  }
}

function toCount(item: Record<string, unknown> | undefined): RateCount {
  return {
    count: Number(item?.count ?? 0),
    expiresAt: new Date(Number(item?.[LIMITS_TABLE.ttlAttribute] ?? 0) * 1000),
  };
}
