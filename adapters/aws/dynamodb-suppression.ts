// The suppression list on the tracking table: one partition of items with TTL, shared by every deliver invocation and the CLI.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import type { Clock } from "#core/ports.ts";
import {
  type SuppressionEntry,
  type SuppressionStore,
  suppressionKey,
  suppressionLive,
} from "#core/suppression/list.ts";
import { TRACKING_TABLE } from "./table-design.ts";

export interface DynamoSuppressionStoreOptions {
  client: DynamoDBClient;
  /** The tracking table (TRACKING_TABLE in table-design.ts: `SUPPRESSION` / `RCPT#<address>`). */
  tableName: string;
  clock?: Clock;
}

const PK = "SUPPRESSION";
const key = (recipient: string) => ({ pk: PK, sk: `RCPT#${suppressionKey(recipient)}` });

/*
 * Why the tracking table: deliver already reads and writes it (no new grant), it has TTL on
 * `expiresAt`, and the list is one Query of one partition for `relay suppression get`. Entries
 * are written once per hard bounce, far below a partition's 1,000 writes a second. Expired items
 * are ignored on read: TTL deletes them within days, and dynalite never.
 */
export class DynamoSuppressionStore implements SuppressionStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: Clock;

  constructor(options: DynamoSuppressionStoreOptions) {
    this.#table = options.tableName;
    this.#clock = options.clock ?? { now: () => new Date() };
    this.#doc = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async put(entry: SuppressionEntry): Promise<void> {
    const recipient = suppressionKey(entry.recipient);
    const ttl =
      entry.expiresAt === undefined
        ? {}
        : { [TRACKING_TABLE.ttlAttribute]: Math.ceil(Date.parse(entry.expiresAt) / 1000) };
    await this.#doc.send(
      new PutCommand({
        TableName: this.#table,
        Item: { ...key(recipient), ...ttl, entry: JSON.stringify({ ...entry, recipient }) },
      }),
    );
  }

  async get(recipient: string): Promise<SuppressionEntry | undefined> {
    const out = await this.#doc.send(
      new GetCommand({ TableName: this.#table, Key: key(recipient), ConsistentRead: true }),
    );
    return this.#live(out.Item);
  }

  async list(): Promise<SuppressionEntry[]> {
    const entries: SuppressionEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.#doc.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": PK },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) {
        const e = this.#live(item);
        if (e) entries.push(e);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return entries.sort((a, b) => a.recipient.localeCompare(b.recipient));
  }

  async delete(recipient: string): Promise<boolean> {
    const out = await this.#doc.send(
      new DeleteCommand({ TableName: this.#table, Key: key(recipient), ReturnValues: "ALL_OLD" }),
    );
    return this.#live(out.Attributes) !== undefined;
  }

  #live(item: Record<string, unknown> | undefined): SuppressionEntry | undefined {
    if (typeof item?.entry !== "string") return undefined;
    const e = JSON.parse(item.entry) as SuppressionEntry;
    return suppressionLive(e, this.#clock.now()) ? e : undefined;
  }
}
