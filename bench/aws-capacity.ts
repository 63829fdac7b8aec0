// DynamoDB write units of global secondary indexes, which dynalite does not report: the rules of DynamoDB's documentation applied to each write.
// "Provisioned throughput considerations for Global Secondary Indexes": an item newly in an index costs
// one index write, a changed index key two (delete and put), leaving the index one, a change of
// projected attributes while in it one; each write is ceil(size / 1 KB) units.

/** An item as the document client holds it (plain values), which is how the adapters write. */
export type Item = Record<string, unknown>;

export interface IndexKeys {
  name: string;
  partitionKey: string;
  sortKey?: string;
}

function valueSize(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v === "string") return Buffer.byteLength(v);
  if (typeof v === "number" || typeof v === "bigint")
    return Math.ceil(String(v).replace(/^-|\./g, "").length / 2) + 1;
  if (typeof v === "boolean" || v === null) return 1;
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) return [...v].reduce((a: number, x) => a + valueSize(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce((a: number, x) => a + 1 + valueSize(x), 0);
  if (typeof v === "object") return 3 + itemSize(v as Item);
  return 0;
}

/** Item size as DynamoDB counts it: attribute names plus values (DynamoDB's "Item sizes and formats"). */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce(
    (a, [k, v]) => (v === undefined ? a : a + Buffer.byteLength(k) + valueSize(v)),
    0,
  );
}

const units = (item: Item) => Math.max(1, Math.ceil(itemSize(item) / 1024));
const keyOf = (item: Item, ix: IndexKeys) => {
  const pk = item[ix.partitionKey];
  if (pk === undefined || pk === "") return undefined;
  const sk = ix.sortKey ? item[ix.sortKey] : undefined;
  if (ix.sortKey && (sk === undefined || sk === "")) return undefined;
  return JSON.stringify([pk, sk]);
};

/** Index write units of one item write, from its image before (undefined: new item) and after (undefined: deleted). */
export function indexWriteUnits(
  indexes: readonly IndexKeys[],
  before: Item | undefined,
  after: Item | undefined,
): number {
  let total = 0;
  for (const ix of indexes) {
    const was = before ? keyOf(before, ix) : undefined;
    const is = after ? keyOf(after, ix) : undefined;
    if (was === undefined && is === undefined) continue;
    if (was === undefined && after) total += units(after);
    else if (is === undefined && before) total += units(before);
    else if (was !== is && before && after) total += units(before) + units(after);
    else if (after && JSON.stringify(before) !== JSON.stringify(after)) total += units(after);
  }
  return total;
}
