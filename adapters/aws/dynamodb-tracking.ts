// DynamoDB tracking store: per-recipient rows with conditional writes, and the message tracking log.
import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  paginateScan,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type {
  JobClaim,
  RecipientRow,
  RecipientStatus,
  RowEvent,
  TrackingEvent,
  TrackingStore,
} from "#core/ports.ts";
import { ACTIVE_SHARDS, TRACKING_TABLE } from "./table-design.ts";
import {
  activeShard,
  eventsOfItems,
  isFinal,
  listedSort,
  msgKey,
  rcptKey,
  senderKey,
  strip,
} from "./tracking-items.ts";

const IX = TRACKING_TABLE.indexes;
const KEY_FIELDS = new Set(["messageId", "recipient"]);

export interface DynamoTrackingStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /**
   * Days rows and events are kept (DynamoDB TTL), or a function read at each write (the
   * TransportSettings record's messageTrackingLogMaxAgeDays). @default 30, Exchange's MessageTrackingLogMaxAge
   */
  retentionDays?: number | (() => number);
}

const claimKey = (key: string) => ({ pk: `CLAIM#${key}`, sk: "CLAIM" });
/** Claim items outlive their lease by a day, then DynamoDB TTL removes them (expiry is checked on write, not by TTL). */
const CLAIM_KEEP_SECONDS = 86_400;

let eventSeq = 0;

export class DynamoTrackingStore implements TrackingStore {
  readonly tableName: string;
  readonly #doc: DynamoDBDocumentClient;
  readonly #retentionDays: () => number;

  constructor(options: DynamoTrackingStoreOptions) {
    this.tableName = options.tableName;
    const days = options.retentionDays ?? 30;
    this.#retentionDays = typeof days === "number" ? () => days : days;
    this.#doc = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  #expiresAt(from: string): number {
    const t = Date.parse(from);
    const retentionSeconds = Math.round(this.#retentionDays() * 86_400);
    return Math.floor((Number.isNaN(t) ? Date.now() : t) / 1000) + retentionSeconds;
  }

  /**
   * A row always carries its `senderKey` and `recipientKey`, but is in the indexes only once
   * listed (`eventSort`, and `activeShard` while not final): see TRACKING_TABLE. A row created
   * Routed is not: its recipient is on its way to the first attempt, whose write lists it.
   */
  #rowItem(row: RecipientRow, listed: boolean, event?: RowEvent): Record<string, unknown> {
    return {
      ...row,
      pk: msgKey(row.messageId),
      sk: rcptKey(row.recipient),
      senderKey: senderKey(row.sender),
      recipientKey: row.recipient.toLowerCase(),
      ...(listed
        ? {
            eventSort: listedSort(row.updatedAt),
            activeShard: isFinal(row.status) ? undefined : activeShard(row.messageId),
          }
        : {}),
      events: event ? [event] : undefined,
      expiresAt: this.#expiresAt(row.receivedAt),
    };
  }

  async put(row: RecipientRow): Promise<void> {
    await this.#doc.send(
      new PutCommand({ TableName: this.tableName, Item: this.#rowItem(row, true) }),
    );
  }

  async create(row: RecipientRow, event?: RowEvent): Promise<boolean> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.#rowItem(row, row.status !== "Routed", event),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  /**
   * One UpdateItem whose ConditionExpression checks existence and status, so racing deliveries
   * cannot both win; the event is appended to the row's `events` in the same write. Every update
   * lists the row (`eventSort`); `activeShard` follows the status written, or, without one, is set
   * when `ifStatusIn` admits only statuses that are not final.
   */
  async update(
    messageId: string,
    recipient: string,
    patch: Partial<RecipientRow>,
    options: { ifStatusIn?: RecipientStatus[]; event?: RowEvent } = {},
  ): Promise<boolean> {
    const names: Record<string, string> = { "#pk": "pk" };
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    const remove: string[] = [];
    let i = 0;
    for (const [field, value] of Object.entries(patch)) {
      if (KEY_FIELDS.has(field)) continue;
      const n = `#f${i}`;
      names[n] = field;
      if (value === undefined) remove.push(n);
      else {
        set.push(`${n} = :v${i}`);
        values[`:v${i}`] = value;
      }
      i++;
    }
    names["#listed"] = "eventSort";
    set.push("#listed = if_not_exists(#listed, :listed)");
    values[":listed"] = listedSort(patch.updatedAt ?? new Date().toISOString());
    const active =
      patch.status === undefined
        ? !!options.ifStatusIn?.length && !options.ifStatusIn.some(isFinal)
        : !isFinal(patch.status);
    if (patch.status !== undefined || active) names["#active"] = "activeShard";
    if (active) {
      set.push("#active = :active");
      values[":active"] = activeShard(messageId);
    } else if (patch.status !== undefined) remove.push("#active");
    if (options.event) {
      names["#events"] = "events";
      set.push("#events = list_append(if_not_exists(#events, :none), :event)");
      values[":none"] = [];
      values[":event"] = [options.event];
    }
    let condition = "attribute_exists(#pk)";
    if (options.ifStatusIn) {
      if (options.ifStatusIn.length === 0) return false;
      names["#status"] = "status";
      const allowed = options.ifStatusIn.map((s, j) => {
        values[`:s${j}`] = s;
        return `:s${j}`;
      });
      condition += ` AND #status IN (${allowed.join(", ")})`;
    }
    const expression = [
      set.length ? `SET ${set.join(", ")}` : "",
      remove.length ? `REMOVE ${remove.join(", ")}` : "",
    ].join(" ");
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: msgKey(messageId), sk: rcptKey(recipient) },
          UpdateExpression: expression.trim(),
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  /**
   * One conditional PutItem (no transaction, no TTL needed: dynalite has neither): it writes only
   * when no claim item exists, its lease ended, or this holder has it.
   */
  async claim(key: string, holder: string, until: Date, now: Date): Promise<JobClaim> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...claimKey(key),
            holder,
            leaseUntil: until.getTime(),
            expiresAt: Math.floor(until.getTime() / 1000) + CLAIM_KEEP_SECONDS,
          },
          ConditionExpression: "attribute_not_exists(pk) OR leaseUntil <= :now OR holder = :holder",
          ExpressionAttributeValues: { ":now": now.getTime(), ":holder": holder },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
      const out = await this.#doc.send(
        new GetCommand({ TableName: this.tableName, Key: claimKey(key), ConsistentRead: true }),
      );
      const standing = Number(out.Item?.leaseUntil ?? until.getTime());
      return { claimed: false, until: new Date(standing).toISOString() };
    }
  }

  /**
   * Ends the lease in place (leaseUntil 0) rather than deleting the item: the functions' role has
   * no DeleteItem on the table, and TTL removes the item a day after the lease would have ended.
   */
  async release(key: string, holder: string): Promise<void> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: claimKey(key),
          UpdateExpression: "SET leaseUntil = :ended",
          ConditionExpression: "holder = :holder",
          ExpressionAttributeValues: { ":holder": holder, ":ended": 0 },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
    }
  }

  async get(messageId: string, recipient: string): Promise<RecipientRow | undefined> {
    const out = await this.#doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: msgKey(messageId), sk: rcptKey(recipient) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? strip<RecipientRow>(out.Item) : undefined;
  }

  async listByMessage(messageId: string): Promise<RecipientRow[]> {
    return (
      await this.#query({
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :rcpt)",
        ExpressionAttributeValues: { ":pk": msgKey(messageId), ":rcpt": "RCPT#" },
        ConsistentRead: true,
      })
    ).map((item) => strip<RecipientRow>(item));
  }

  /** Reads every shard of the sparse `active` index (eventually consistent, as GSIs are). */
  async listActive(): Promise<RecipientRow[]> {
    const shards = await Promise.all(
      Array.from({ length: ACTIVE_SHARDS }, (_, n) =>
        this.#query({
          IndexName: IX.active.name,
          KeyConditionExpression: "activeShard = :s",
          ExpressionAttributeValues: { ":s": String(n) },
        }),
      ),
    );
    return shards
      .flat()
      .map((item) => strip<RecipientRow>(item))
      .sort(
        (a, b) =>
          a.receivedAt.localeCompare(b.receivedAt) ||
          a.messageId.localeCompare(b.messageId) ||
          a.recipient.localeCompare(b.recipient),
      );
  }

  async addEvent(event: TrackingEvent): Promise<void> {
    eventSeq = (eventSeq + 1) % 1e9;
    const sort = `EVT#${event.at}#${String(eventSeq).padStart(9, "0")}#${randomUUID().slice(0, 8)}`;
    await this.#doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...event,
          pk: msgKey(event.messageId),
          sk: sort,
          eventSort: sort,
          senderKey: event.sender === undefined ? undefined : senderKey(event.sender),
          recipientKey: event.recipient?.toLowerCase() || undefined,
          expiresAt: this.#expiresAt(event.at),
        },
      }),
    );
  }

  /**
   * Uses the most selective key: the message's partition (its rows and their events, and the
   * events kept on their own), else the recipient or sender index, which hold listed rows and
   * events kept on their own; the other criteria filter the result. With no criteria it scans,
   * which only an admin tool should do.
   */
  async events(query: {
    messageId?: string;
    sender?: string;
    recipient?: string;
  }): Promise<TrackingEvent[]> {
    let items: Record<string, unknown>[];
    if (query.messageId !== undefined) {
      items = await this.#query({
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": msgKey(query.messageId) },
        ConsistentRead: true,
      });
    } else if (query.recipient !== undefined) {
      items = await this.#query({
        IndexName: IX.byRecipient.name,
        KeyConditionExpression: "recipientKey = :r",
        ExpressionAttributeValues: { ":r": query.recipient.toLowerCase() },
      });
    } else if (query.sender !== undefined) {
      items = await this.#query({
        IndexName: IX.bySender.name,
        KeyConditionExpression: "senderKey = :s",
        ExpressionAttributeValues: { ":s": senderKey(query.sender) },
      });
    } else {
      items = [];
      for await (const page of paginateScan(
        { client: this.#doc },
        {
          TableName: this.tableName,
          FilterExpression: "begins_with(sk, :evt) OR attribute_exists(events)",
          ExpressionAttributeValues: { ":evt": "EVT#" },
        },
      ))
        items.push(...(page.Items ?? []));
    }
    return eventsOfItems(items, query);
  }

  async #query(input: Omit<QueryCommandInput, "TableName">): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for await (const page of paginateQuery(
      { client: this.#doc },
      { TableName: this.tableName, ...input },
    ))
      out.push(...(page.Items ?? []));
    return out;
  }
}
