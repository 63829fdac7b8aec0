// The port for shared next-hop state (slots, rate, throttle backoff, circuits): one versioned document per key.

/** A stored document and its version, for a compare-and-set write. */
export interface Versioned<T> {
  state: T;
  version: number;
}

/**
 * Small JSON documents shared by every deliver invocation (a DynamoDB item in AWS, a SQLite row
 * locally): a next hop's slot leases, rate window and throttle backoff, a host's circuit. Every
 * rule is a pure function in core (state.ts, circuit.ts) applied by read, then `write` with the
 * version read, retried on conflict: one conditional write per change, no transactions (dynalite
 * has none), and the same code path in every runtime.
 *
 * `read` resolves undefined for a key never written or whose document expired (DynamoDB's TTL
 * deletes late, so readers must ignore expired items themselves). `write` stores `state` only when
 * the stored version is still `version` (0: absent or expired) and resolves whether it did; it
 * keeps the document until `expiresAt`. Both reject when the store cannot be reached.
 */
export interface HopStateStore {
  read<T>(key: string): Promise<Versioned<T> | undefined>;
  write<T>(key: string, state: T, version: number, expiresAt: Date): Promise<boolean>;
}

/** The version a write stores: one more, or on a fresh document the time (so an old reader's version never matches it again). */
export const nextVersion = (version: number, nowMs: number): number =>
  version === 0 ? nowMs : version + 1;
