// Ports: the capabilities core needs from a runtime (AWS or local), one small interface each.
import type { MessageDsn, RecipientDsn } from "./dsn-params.ts";
import type { RecipientOutcome } from "./message.ts";
import type { TlsaRecord } from "./tls-policy/dane.ts";

/**
 * A durable FIFO-ish queue producer (SQS semantics: at-least-once, no ordering promise).
 * `send` resolves only once the message is durably stored (fsynced locally, acknowledged by SQS);
 * it rejects with QueueUnavailableError otherwise, and then nothing is visible to consumers.
 */
export interface QueueProducer<T> {
  send(body: T, options?: { delaySeconds?: number }): Promise<string>;
}

/**
 * The claim-check store for message bodies too large for a queue message.
 * `put` resolves only once durable; `get` rejects with NotFoundError for an unknown key.
 */
export interface MessageStore {
  put(key: string, body: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array>;
  delete(key: string): Promise<void>;
}

/**
 * Connector records as stored (raw, unvalidated items; core validates them on read).
 * `list` returns every record of every kind. `put` replaces the record with the same kind and id.
 */
export interface RecordStore {
  list(): Promise<unknown[]>;
  get(kind: string, id: string): Promise<unknown | undefined>;
  put(record: Record<string, unknown>): Promise<void>;
  /** Resolves true when a record was removed, false when there was none. */
  delete(kind: string, id: string): Promise<boolean>;
}

export type RecipientStatus =
  | "Queued"
  | "Routed"
  | "Deferred"
  | "Delivered"
  | "Failed"
  | "Expired"
  | "Suspended";
export const FINAL_STATUSES: readonly RecipientStatus[] = ["Delivered", "Failed", "Expired"];

/** One tracking row per (message, recipient): what Exchange shows in Get-Queue / Get-Message. */
export interface RecipientRow {
  messageId: string;
  recipient: string;
  sender: string;
  status: RecipientStatus;
  receivedAt: string;
  updatedAt: string;
  connector?: string;
  nextHop?: string;
  attempts: number;
  /** Remote host and reply of the last failed attempt, e.g. "mx1.contoso.com[10.0.0.5]: 451 4.7.1 Try later". */
  lastError?: string;
  nextRetryAt?: string;
  jobId?: string;
  size?: number;
  subject?: string;
  internetMessageId?: string;
  /** The TLS policy of the last attempt and why (DANE, MTA-STS or the connector's own), e.g. "MTA-STS enforce: policy id 2024 of contoso.com lists mx1.contoso.com". */
  tlsPolicy?: string;
}

export type TrackingEventType =
  | "RECEIVE"
  | "ROUTE"
  | "DEFER"
  | "DELIVER"
  | "FAIL"
  | "EXPIRE"
  | "DSN"
  | "DLQ"
  | "SUSPEND"
  | "RESUME"
  | "RETRY"
  | "REMOVE";

/** One line of message tracking (Exchange's Get-MessageTrackingLog). */
export interface TrackingEvent {
  messageId: string;
  recipient?: string;
  sender?: string;
  at: string;
  event: TrackingEventType;
  source: string;
  detail?: string;
}

/**
 * A tracking event written with its recipient's row (`create` or `update`): the row's message,
 * recipient and sender are the event's. In DynamoDB it is part of the row's item, so it costs no
 * write of its own; `events` returns it like any other.
 */
export type RowEvent = Omit<TrackingEvent, "messageId" | "recipient" | "sender">;

/** The answer to a job claim: taken by this holder, or held by another until `until`. */
export type JobClaim = { claimed: true } | { claimed: false; until: string };

/**
 * Per-recipient delivery state and the tracking log. `update` with `ifStatusIn` is a conditional
 * write (DynamoDB ConditionExpression; no transactions): it resolves false and changes nothing when
 * the row's status is not one of those given, which is what keeps redelivered jobs idempotent.
 */
export interface TrackingStore {
  put(row: RecipientRow): Promise<void>;
  /**
   * Conditional put: writes the row (and `event`, when given) only when none exists for
   * (messageId, recipient); resolves whether it did.
   */
  create(row: RecipientRow, event?: RowEvent): Promise<boolean>;
  /** Applies `patch` and appends `event` in one write, or neither (missing row, status not in `ifStatusIn`). */
  update(
    messageId: string,
    recipient: string,
    patch: Partial<RecipientRow>,
    options?: { ifStatusIn?: RecipientStatus[]; event?: RowEvent },
  ): Promise<boolean>;
  get(messageId: string, recipient: string): Promise<RecipientRow | undefined>;
  listByMessage(messageId: string): Promise<RecipientRow[]>;
  /**
   * Rows whose status is not final: the queue view. A store may leave out a row created Routed and
   * not written since (a recipient on its way to its first attempt, listed once it waits or is
   * tried); every other row that is not final is listed. `events` by sender or recipient may leave
   * out that row's events the same way; by message id it finds everything.
   */
  listActive(): Promise<RecipientRow[]>;
  /** An event of its own: one that belongs to no row (RECEIVE, DSN, DLQ) or that changes no row. */
  addEvent(event: TrackingEvent): Promise<void>;
  /**
   * Takes the lease on `key` for `holder` until `until`, in one conditional write: it succeeds when
   * no lease exists, the standing one ended before `now`, or `holder` already has it. Two copies of
   * one queue message running at once therefore cannot both send; a holder that crashed blocks the
   * job only until its lease ends.
   */
  claim(key: string, holder: string, until: Date, now: Date): Promise<JobClaim>;
  /** Ends `holder`'s lease on `key`; a lease another holder has taken since is left alone. */
  release(key: string, holder: string): Promise<void>;
  /**
   * Makes every write so far durable now, for a store that groups writes into later commits
   * (local mode's SQLite, one commit per event-loop turn). Deliver calls it once a remote 250 is
   * recorded, so a crash cannot undo that record and send the message again. A store whose writes
   * are durable when they resolve (DynamoDB) leaves it out.
   */
  flush?(): Promise<void>;
  events(query: {
    messageId?: string;
    sender?: string;
    recipient?: string;
  }): Promise<TrackingEvent[]>;
}

/** Secrets by name (Secrets Manager in AWS, a 0600 file locally). Rejects with NotFoundError. */
export interface SecretStore {
  get(name: string): Promise<string>;
}

/**
 * Writing secrets, for the admin tool (DKIM private keys, smart-host credentials): `set` creates
 * or replaces and resolves once stored; `delete` resolves false when there was no such secret.
 */
export interface SecretWriter {
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<boolean>;
}

/** One DKIM key to sign with: d=, s= and the PEM private key. */
export interface DkimSigningKey {
  domain: string;
  selector: string;
  privateKey: string;
}

/**
 * DKIM signing (RFC 6376, relaxed/relaxed, whole body). Resolves the DKIM-Signature fields to put
 * in front of the message (CRLF-terminated; "" when none could be made) and one error per key that
 * could not sign (a damaged or wrong key). Deterministic for a given message, key and `signTime`.
 */
export interface DkimSigner {
  sign(
    raw: Uint8Array,
    keys: DkimSigningKey[],
    options: { headers: readonly string[]; signTime: Date },
  ): Promise<{
    signatures: string;
    errors: { domain: string; selector: string; message: string }[];
  }>;
}

export interface Clock {
  now(): Date;
}

export interface MxRecord {
  exchange: string;
  priority: number;
}

/**
 * DNS lookups for delivery. Rejects with DnsError: `notFound` (NXDOMAIN, permanent), `noData`
 * (the name exists without records of that type), `temporary` (SERVFAIL, timeout, refused).
 */
export interface DnsResolver {
  resolveMx(domain: string, servers?: string[]): Promise<MxRecord[]>;
  resolveAddresses(host: string, servers?: string[]): Promise<string[]>;
}

export interface CourierTls {
  /** "opportunistic": STARTTLS when offered; "required": fail (transient) without it. */
  mode: "opportunistic" | "required";
  /**
   * "none": encryption only; "certificate": a trusted chain; "domain": a trusted chain naming
   * `servername`; "dane": the presented chain matches one of `tlsa` (RFC 7672 §3.1), no CA needed.
   */
  validate: "none" | "certificate" | "domain" | "dane";
  servername?: string;
  /** With "dane": the usable TLSA records of the host. */
  tlsa?: TlsaRecord[];
  /** The policy that demands this TLS, named in front of a TLS failure, e.g. "MTA-STS enforce (policy id 2024)". */
  policy?: string;
  /** MTA-STS testing: after the handshake, what a "domain" check would refuse is reported here, not enforced. */
  audit?: (problem: string) => void;
}

export interface CourierRequest {
  /** Host name or IP to connect to, and the name to report in LastError. */
  host: string;
  /** Address to connect to when already resolved. */
  address?: string;
  port: number;
  ehloName: string;
  tls: CourierTls;
  auth?: { username: string; password: string };
  mailFrom: string;
  recipients: string[];
  raw: Uint8Array;
  /**
   * Milliseconds this transaction may take, from the call (the function's time left, less a margin
   * to record outcomes). Connection, greeting and socket timeouts are capped by it, and a
   * transaction still running then is abandoned and reported as a transient time-out. Without it
   * the courier's own timeouts alone apply.
   */
  timeLimitMs?: number;
  /** RFC 6531: the message needs a next hop that offers SMTPUTF8; without it every recipient fails 5.6.7. */
  smtpUtf8?: boolean;
  /** RFC 3461 parameters to pass on when the next hop offers DSN; NOTIFY and ORCPT apply to every recipient. */
  dsn?: MessageDsn & RecipientDsn;
  /** Exchange's SmtpMaxMessagesPerConnection: a reused connection is closed once it carried this many. */
  maxMessagesPerConnection?: number;
  /** Called with each protocol line (credentials already redacted) when the connector logs verbosely. */
  protocolLog?: (direction: "<" | ">" | "*", line: string) => void;
}

/**
 * One SMTP transaction. Rejects never: connection, TLS and protocol failures come back as a
 * transient (or, where the reply says so, permanent) outcome for every recipient.
 */
export interface SmtpCourier {
  send(request: CourierRequest): Promise<RecipientOutcome[]>;
}

/** A counter's value and the end of its window. */
export interface RateCount {
  count: number;
  expiresAt: Date;
}

/**
 * Counters in fixed windows for rate limits and AUTH lockouts, shared by every listener task (a
 * DynamoDB table in AWS, SQLite in local mode). A window starts with the first increment of a key
 * (or the first after its window ended) and lasts `windowSeconds`; increments within it keep that
 * end. `increment` is atomic across processes: two tasks adding 1 to 4 see 5 and 6, never 5 twice.
 * Expired counters read as absent (DynamoDB's TTL deletes items only eventually; dynalite never).
 * A negative amount (giving back a reservation) changes a live counter only: on an absent or
 * expired one it does nothing and resolves a count of 0, so it never opens a window below zero.
 * Rejects when the store cannot be reached; callers decide whether to fail open.
 */
export interface RateCounterStore {
  increment(key: string, windowSeconds: number, amount?: number): Promise<RateCount>;
  get(key: string): Promise<RateCount | undefined>;
  delete(key: string): Promise<void>;
}
