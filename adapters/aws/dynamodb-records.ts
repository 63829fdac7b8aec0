// DynamoDB record store: connector records as plain items (partition key `kind`, sort key `id`), editable in the console.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
} from "@aws-sdk/lib-dynamodb";
import { RecordValidationError } from "#core/errors.ts";
import type { RecordStore } from "#core/ports.ts";
import { parseRecord, RECORD_ID_FIELD, type RecordKind } from "#core/records/index.ts";
import { recordId } from "../memory/record-store.ts";

/*
 * Table design: one item per record. `kind` (partition key) and `id` (sort key) = the record's id
 * field (`name`, or `domain` for accepted domains) in lower case, so ids are case-insensitive as in
 * Exchange. Every other attribute is the record's own field, so an admin edits an item in the
 * console exactly as the record is documented; `id` is dropped on read because the schemas are
 * strict. A table of records is small (tens to hundreds of items): `list` scans it.
 * Key names: RECORD_TABLE in table-design.ts.
 */
export interface DynamoRecordStoreOptions {
  client: DynamoDBClient;
  tableName: string;
}

/** The sort key of a record: its id field, or the schema's default for it (TransportSettings "default"). */
export function recordSortKey(record: Record<string, unknown>): string {
  let id = recordId(record);
  if (!id) {
    const parsed = parseRecord(record);
    const field = RECORD_ID_FIELD[record.kind as RecordKind] ?? "name";
    if (parsed.ok) id = String((parsed.record as unknown as Record<string, unknown>)[field] ?? "");
    if (!id) throw new RecordValidationError(`${String(record.kind)} record: ${field}: required`);
  }
  return id.toLowerCase();
}

function toRecord(item: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, ...record } = item;
  return record;
}

export class DynamoRecordStore implements RecordStore {
  readonly tableName: string;
  readonly #doc: DynamoDBDocumentClient;

  constructor(options: DynamoRecordStoreOptions) {
    this.tableName = options.tableName;
    this.#doc = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  /** Strongly consistent, so a record written by the CLI is seen by the next cache refresh. */
  async list(): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const page of paginateScan(
      { client: this.#doc },
      { TableName: this.tableName, ConsistentRead: true },
    )) {
      for (const item of page.Items ?? []) out.push(toRecord(item));
    }
    return out;
  }

  async get(kind: string, id: string): Promise<unknown | undefined> {
    const out = await this.#doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { kind, id: id.toLowerCase() },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toRecord(out.Item) : undefined;
  }

  async put(record: Record<string, unknown>): Promise<void> {
    await this.#doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...record, kind: String(record.kind), id: recordSortKey(record) },
      }),
    );
  }

  async delete(kind: string, id: string): Promise<boolean> {
    const out = await this.#doc.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { kind, id: id.toLowerCase() },
        ReturnValues: "ALL_OLD",
      }),
    );
    return out.Attributes !== undefined;
  }
}
