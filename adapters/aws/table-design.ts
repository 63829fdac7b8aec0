// Key schemas of the DynamoDB tables, shared by the adapters, the CDK stack and the emulator tests.

/** Records: one item per connector record (see dynamodb-records.ts). */
export const RECORD_TABLE = { partitionKey: "kind", sortKey: "id" } as const;

/**
 * Tracking: one table, no transactions (dynalite has none; each write is one conditional item).
 *
 * | item          | pk               | sk                          | index keys                                       |
 * | ------------- | ---------------- | --------------------------- | ------------------------------------------------ |
 * | recipient row | `MSG#<msgId>`    | `RCPT#<recipient lc>`       | `senderKey`/`recipientKey` + `eventSort` once listed; `activeShard` + `receivedAt` while listed and not final |
 * | event         | `MSG#<msgId>`    | `EVT#<at>#<seq>#<rand>`     | `senderKey`/`recipientKey` + `eventSort`         |
 * | MTA-STS policy| `MTASTS#<domain>`| `POLICY`                    | none (read by key only)                          |
 *
 * A row carries its recipient's tracking events (`events`, appended by the write that changes its
 * status), so a status change and its event are one write; events that change no row (RECEIVE,
 * DSN, DLQ, failover, admin actions) are items of their own. A message's rows and events share a
 * partition, so Get-Message and the tracking log of one message are one Query each.
 *
 * Index entries cost a write each, so a row is in the indexes only once it must be found that
 * way: created Routed (on its way to its first attempt) it is in none; any later write lists it
 * (`eventSort`, which `bySender` and `byRecipient` need as their sort key; the row always carries
 * `senderKey` and `recipientKey`), and sets `activeShard` while its status is not final. A row
 * delivered at the first attempt is thus two item writes and two index entries. `active` is a
 * sparse index read by the queue view, spread over ACTIVE_SHARDS partition keys so a busy relay
 * does not write one hot index partition. `bySender` and `byRecipient` answer
 * Get-MessageTrackingLog -Sender / -Recipient. Every item carries `expiresAt` (epoch seconds) for
 * DynamoDB TTL, Exchange's 30-day tracking log age by default.
 */
export const TRACKING_TABLE = {
  partitionKey: "pk",
  sortKey: "sk",
  ttlAttribute: "expiresAt",
  indexes: {
    active: { name: "active", partitionKey: "activeShard", sortKey: "receivedAt" },
    bySender: { name: "bySender", partitionKey: "senderKey", sortKey: "eventSort" },
    byRecipient: { name: "byRecipient", partitionKey: "recipientKey", sortKey: "eventSort" },
  },
} as const;

export const ACTIVE_SHARDS = 8;

/**
 * Limits: one item per counter (message and recipient rates, AUTH failures and lockouts), shared
 * by every listener task. `pk` is the counter's key (e.g. `lock:ip:192.0.2.7`), `count` a number
 * changed only by atomic `ADD`, `expiresAt` the window's end in epoch seconds, which DynamoDB TTL
 * deletes eventually (readers ignore expired items; dynalite has no TTL at all).
 *
 * Deliver keeps next-hop documents in the same table: `hop:<next hop>` (slot leases, the last
 * minute's sends, throttle backoff) and `host:<name>:<port>` (a host's circuit), each with `state`
 * (JSON), `version` (the compare-and-set number) and the same `expiresAt`.
 */
export const LIMITS_TABLE = { partitionKey: "pk", ttlAttribute: "expiresAt" } as const;
