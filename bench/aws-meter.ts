// Counts what the AWS shape asks of AWS: SDK calls by service and action, billed SQS requests, DynamoDB capacity units, bytes on the wire.
// An SDK middleware on each client, so the figures come from the requests the real adapters make.
import { AsyncLocalStorage } from "node:async_hooks";
import { type IndexKeys, type Item, indexWriteUnits, itemSize } from "./aws-capacity.ts";

/** SQS bills each 64 KiB chunk of a request's payload as one request (SQS pricing page). */
export const SQS_CHUNK_BYTES = 64 * 1024;

export interface CallCount {
  calls: number;
  /** SQS: requests as billed (64 KiB chunks, at least one per call). Others: calls. */
  billed: number;
  /** Payload sizes: what the request carried and what the answer carried (HTTP bodies). */
  bytesOut: number;
  bytesIn: number;
  /** HTTP requests and answers as sent (headers and body, before TLS): what a NAT gateway would process. */
  wireBytes: number;
}

export interface MeterReport {
  /** "sqs:SendMessage", "dynamodb:PutItem", "s3:PutObject", ... */
  calls: Record<string, CallCount>;
  /** DynamoDB capacity as the API reported it (ReturnConsumedCapacity INDEXES): table and indexes. */
  dynamodb: { writeUnits: number; readUnits: number };
  /** ReceiveMessage calls that returned nothing (idle polling, not a cost per message). */
  emptyReceives: number;
  /** Size of the items last written to indexed tables (tracking rows, events, claims): what is stored. */
  storedBytes: number;
}

type Middleware = (
  next: (args: { input: Record<string, unknown>; request?: unknown }) => Promise<{
    output: Record<string, unknown>;
    response?: unknown;
  }>,
  context: { commandName?: string },
) => (args: { input: Record<string, unknown>; request?: unknown }) => Promise<{
  output: Record<string, unknown>;
  response?: unknown;
}>;

interface MiddlewareStack {
  add(m: Middleware, o: { step: string; name: string }): void;
}

const utf8 = (s: unknown) => (typeof s === "string" ? Buffer.byteLength(s) : 0);
const CAPACITY_COMMANDS = new Set([
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "GetItem",
  "Query",
  "Scan",
  "BatchWriteItem",
  "BatchGetItem",
]);

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

/** Units of one ConsumedCapacity: the table's and every index's (an index write is billed as a write). */
export function capacityUnits(c: Capacity | undefined): number {
  if (!c) return 0;
  const indexes = Object.values(c.GlobalSecondaryIndexes ?? {}).reduce(
    (a, i) => a + (i.CapacityUnits ?? 0),
    0,
  );
  const table = c.Table?.CapacityUnits;
  // With INDEXES the total is CapacityUnits; without, only the table's figure is there.
  return c.CapacityUnits ?? (table ?? 0) + indexes;
}

function payloadOf(service: string, action: string, input: Record<string, unknown>): number {
  if (service === "sqs" && action === "SendMessage") return utf8(input.MessageBody);
  if (service === "sqs" && action === "SendMessageBatch")
    return ((input.Entries as Array<{ MessageBody?: string }>) ?? []).reduce(
      (a, e) => a + utf8(e.MessageBody),
      0,
    );
  if (service === "s3" && action === "PutObject") {
    const b = input.Body as { length?: number; byteLength?: number } | string | undefined;
    return typeof b === "string" ? utf8(b) : (b?.byteLength ?? b?.length ?? 0);
  }
  return 0;
}

function returnedOf(service: string, action: string, output: Record<string, unknown>): number {
  if (service === "sqs" && action === "ReceiveMessage")
    return ((output.Messages as Array<{ Body?: string }>) ?? []).reduce(
      (a, m) => a + utf8(m.Body),
      0,
    );
  if (service === "s3" && action === "GetObject") return Number(output.ContentLength ?? 0);
  return 0;
}

/** Bytes of an HTTP request or response: a start line, its headers and its body (its length header when streamed). */
function httpBytes(message: unknown): number {
  const m = message as
    | { headers?: Record<string, string>; body?: unknown; statusCode?: number }
    | undefined;
  if (!m?.headers) return 0;
  const headers = Object.entries(m.headers).reduce(
    (a, [k, v]) => a + k.length + String(v).length + 4,
    0,
  );
  const b = m.body;
  const body =
    typeof b === "string"
      ? Buffer.byteLength(b)
      : b instanceof Uint8Array
        ? b.byteLength
        : Number(m.headers["content-length"] ?? 0);
  return 40 + headers + body;
}

/** Time an invocation spent with at least one AWS call in flight, and how many such waits it had. */
export interface Waiting {
  inFlight: number;
  since: number;
  awaitedMs: number;
  waits: number;
  calls: number;
}
/** Set around each handler invocation (bench/aws-shape.ts), so calls are charged to it. */
export const invocationScope = new AsyncLocalStorage<Waiting>();

let meters = 0;

export class AwsMeter {
  /** Middleware names are unique per client: several meters may watch one client. */
  readonly #id = ++meters;
  readonly #calls = new Map<string, CallCount>();
  #writeUnits = 0;
  #readUnits = 0;
  #emptyReceives = 0;
  readonly #indexes = new Map<string, readonly IndexKeys[]>();
  /**
   * The last image of each item written to a table with indexes (the "before" of its next update),
   * shared by every meter of this process: route writes a row that deliver updates. Each image
   * remembers the meter that wrote it, whose storage it counts in.
   */
  static readonly #images = new Map<string, { item: Item; by: number }>();

  /** Global secondary indexes of a table: their writes are added to the units dynalite reports. */
  indexes(tableName: string, indexes: readonly IndexKeys[]): void {
    this.#indexes.set(tableName, indexes);
  }

  /** Counts every call the client makes from now on; DynamoDB calls also ask for their consumed capacity. */
  attach(
    client: { middlewareStack: unknown },
    service: "sqs" | "s3" | "dynamodb" | "secretsmanager",
  ): void {
    const middleware: Middleware = (next, context) => async (args) => {
      const action = (context.commandName ?? "?").replace(/Command$/, "");
      if (service === "dynamodb" && CAPACITY_COMMANDS.has(action))
        args.input.ReturnConsumedCapacity = "INDEXES";
      const indexed = service === "dynamodb" && this.#indexes.has(String(args.input.TableName));
      // The images around the write, for the index units (return values cost no capacity).
      if (indexed && args.input.ReturnValues === undefined) {
        if (action === "PutItem") args.input.ReturnValues = "ALL_OLD";
        if (action === "UpdateItem") args.input.ReturnValues = "ALL_NEW";
      }
      let result: Awaited<ReturnType<ReturnType<Middleware>>>;
      const w = invocationScope.getStore();
      if (w) w.calls++;
      if (w && w.inFlight++ === 0) {
        w.since = performance.now();
        w.waits++;
      }
      try {
        result = await next(args);
      } catch (error) {
        // A write whose condition fails still consumes write capacity (one unit for a small item).
        if ((error as Error).name === "ConditionalCheckFailedException") {
          this.#count(service, action, args.input, {});
          this.#writeUnits += 1;
        }
        throw error;
      } finally {
        if (w && --w.inFlight === 0) w.awaitedMs += performance.now() - w.since;
      }
      this.#count(service, action, args.input, result.output);
      if (indexed) this.#indexUnits(action, args.input, result.output);
      return result;
    };
    const stack = client.middlewareStack as MiddlewareStack;
    stack.add(middleware, { step: "initialize", name: `benchAwsMeter${this.#id}` });
    const wire: Middleware = (next, context) => async (args) => {
      const result = await next(args);
      const key = `${service}:${(context.commandName ?? "?").replace(/Command$/, "")}`;
      const c = this.#calls.get(key) ?? {
        calls: 0,
        billed: 0,
        bytesOut: 0,
        bytesIn: 0,
        wireBytes: 0,
      };
      c.wireBytes += httpBytes(args.request) + httpBytes(result.response);
      this.#calls.set(key, c);
      return result;
    };
    stack.add(wire, { step: "finalizeRequest", name: `benchAwsWire${this.#id}` });
  }

  #count(
    service: string,
    action: string,
    input: Record<string, unknown>,
    output: Record<string, unknown>,
  ): void {
    const key = `${service}:${action}`;
    const c = this.#calls.get(key) ?? {
      calls: 0,
      billed: 0,
      bytesOut: 0,
      bytesIn: 0,
      wireBytes: 0,
    };
    const out = payloadOf(service, action, input);
    const back = returnedOf(service, action, output);
    c.calls++;
    c.bytesOut += out;
    c.bytesIn += back;
    c.billed +=
      service === "sqs" ? Math.max(1, Math.ceil(Math.max(out, back) / SQS_CHUNK_BYTES)) : 1;
    this.#calls.set(key, c);
    if (action === "ReceiveMessage" && !((output.Messages as unknown[]) ?? []).length)
      this.#emptyReceives++;
    if (service === "dynamodb") {
      const consumed = output.ConsumedCapacity as Capacity | Capacity[] | undefined;
      const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
      const units = list.reduce((a, x) => a + capacityUnits(x), 0);
      if (/^(Put|Update|Delete|BatchWrite)/.test(action)) this.#writeUnits += units;
      else this.#readUnits += units;
    }
  }

  #indexUnits(
    action: string,
    input: Record<string, unknown>,
    output: Record<string, unknown>,
  ): void {
    const table = String(input.TableName);
    const indexes = this.#indexes.get(table) ?? [];
    // The document client's plain values (the adapters use it), as this middleware sees them.
    const asItem = (x: unknown): Item | undefined =>
      x && typeof x === "object" ? (x as Item) : undefined;
    const key = asItem(input.Key ?? input.Item);
    const keyText = `${table}|${JSON.stringify(key?.pk ?? key)}|${JSON.stringify(key?.sk ?? "")}`;
    let before: Item | undefined;
    let after: Item | undefined;
    if (action === "PutItem") {
      before = asItem(output.Attributes);
      after = asItem(input.Item);
    } else if (action === "UpdateItem") {
      before = AwsMeter.#images.get(keyText)?.item;
      after = asItem(output.Attributes);
    } else if (action === "DeleteItem") {
      before = AwsMeter.#images.get(keyText)?.item;
    } else return;
    if (after) AwsMeter.#images.set(keyText, { item: after, by: this.#id });
    else AwsMeter.#images.delete(keyText);
    this.#writeUnits += indexWriteUnits(indexes, before, after);
  }

  report(): MeterReport {
    return {
      calls: Object.fromEntries([...this.#calls].sort(([a], [b]) => a.localeCompare(b))),
      dynamodb: { writeUnits: this.#writeUnits, readUnits: this.#readUnits },
      emptyReceives: this.#emptyReceives,
      storedBytes: [...AwsMeter.#images.values()].reduce(
        (a, { item, by }) => a + (by === this.#id ? itemSize(item) : 0),
        0,
      ),
    };
  }

  reset(): void {
    this.#calls.clear();
    this.#writeUnits = 0;
    this.#readUnits = 0;
    this.#emptyReceives = 0;
    for (const [key, { by }] of AwsMeter.#images) if (by === this.#id) AwsMeter.#images.delete(key);
  }
}
