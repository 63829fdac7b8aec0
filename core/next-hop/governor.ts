// Shared next-hop state applied through the HopStateStore: read, apply a pure rule, conditional write, again on conflict.
import type { Clock } from "../ports.ts";
import {
  type CircuitGate,
  type CircuitSettings,
  circuitClosed,
  circuitExpiry,
  circuitFailed,
  circuitGate,
  type HostCircuit,
} from "./circuit.ts";
import type { HopStateStore } from "./ports.ts";
import {
  admitToHop,
  type HopLimits,
  type HopState,
  hopExpiry,
  pruneHop,
  releaseSlot,
  type SlotAdmission,
  type ThrottleSettings,
  throttleHop,
} from "./state.ts";

/** Thrown when a document kept changing under us (many invocations at once); callers treat the hop as busy. */
export class HopContentionError extends Error {
  override readonly name = "HopContentionError";
}

export const hopKey = (nextHopKey: string) => `hop:${nextHopKey.toLowerCase()}`;
export const hostKey = (host: string, port: number) => `host:${host.toLowerCase()}:${port}`;

const MAX_TRIES = 12;

/*
 * Why shared documents and not SQS maximum concurrency: the limit belongs to a next hop (an MX
 * domain, a smart host), while an event source mapping's maximum concurrency is per queue (one
 * number for every destination, at least 2) and cannot see which provider a job goes to; it cannot
 * express messages per minute or a backoff either. One conditional write per change works the same
 * on DynamoDB (shared by every Lambda invocation), SQLite (local mode) and in memory.
 */
export class NextHopGovernor {
  readonly #store: HopStateStore;
  readonly #clock: Clock;
  readonly #random: () => number;
  /** This runner (process, Lambda execution environment): its courier's idle connections are its own. */
  readonly #runner = crypto.randomUUID().slice(0, 8);

  constructor(store: HopStateStore, clock: Clock, random: () => number = Math.random) {
    this.#store = store;
    this.#clock = clock;
    this.#random = random;
  }

  /** Applies `rule` to the document at `key`; a rule that returns `write: false` changes nothing. */
  async #mutate<T, R>(
    key: string,
    rule: (
      state: T | undefined,
      now: number,
    ) => { result: R; write?: { state: T; expiresAt: number } },
  ): Promise<R> {
    for (let i = 0; i < MAX_TRIES; i++) {
      const read = await this.#store.read<T>(key);
      const now = this.#clock.now().getTime();
      const { result, write } = rule(read?.state, now);
      if (!write) return result;
      if (await this.#store.write(key, write.state, read?.version ?? 0, new Date(write.expiresAt)))
        return result;
      // Lost the race: back off a little, randomly, so concurrent writers spread out.
      await new Promise((r) => setTimeout(r, 2 + this.#random() * 10 * (i + 1)));
    }
    throw new HopContentionError(
      `the state of ${key} kept changing; gave up after ${MAX_TRIES} tries`,
    );
  }

  admit(
    nextHop: string,
    limits: HopLimits,
    holder: string,
    leaseUntil: Date,
  ): Promise<SlotAdmission> {
    return this.#mutate<HopState, SlotAdmission>(hopKey(nextHop), (s, now) => {
      const a = admitToHop(s, limits, holder, leaseUntil.getTime(), now, this.#runner);
      return a.ok
        ? { result: a, write: { state: a.state, expiresAt: hopExpiry(a.state, now) } }
        : { result: a };
    });
  }

  release(nextHop: string, holder: string): Promise<void> {
    return this.#mutate<HopState, void>(hopKey(nextHop), (s, now) => {
      if (!s?.leases[holder]) return { result: undefined };
      const state = releaseSlot(s, holder, this.#runner, now);
      return { result: undefined, write: { state, expiresAt: hopExpiry(state, now) } };
    });
  }

  throttled(nextHop: string, settings: ThrottleSettings, lastError: string): Promise<HopState> {
    return this.#mutate<HopState, HopState>(hopKey(nextHop), (s, now) => {
      const state = throttleHop(s, settings, lastError, now);
      return { result: state, write: { state, expiresAt: hopExpiry(state, now) } };
    });
  }

  async hop(nextHop: string): Promise<HopState | undefined> {
    const read = await this.#store.read<HopState>(hopKey(nextHop));
    return read ? pruneHop(read.state, this.#clock.now().getTime()) : undefined;
  }

  /** Whether a job may connect to the host now; a half-open circuit admits one probe until `probeUntil`. */
  gate(host: string, port: number, probeUntil: Date): Promise<CircuitGate> {
    return this.#mutate<HostCircuit, CircuitGate>(hostKey(host, port), (c, now) => {
      const g = circuitGate(c, now, probeUntil.getTime());
      if (g.kind !== "probe") return { result: g };
      return { result: g, write: { state: g.state, expiresAt: circuitExpiry(g.state, now) } };
    });
  }

  /** What a connection to the host came to: down (no connection, time-out) or answering. */
  report(host: string, port: number, down: boolean, settings: CircuitSettings, lastError: string) {
    return this.#mutate<HostCircuit, HostCircuit>(hostKey(host, port), (c, now) => {
      // An answering host with a clean record: no write, the common case costs one read.
      if (!down && (!c || (c.failures === 0 && !c.openUntil)))
        return { result: circuitClosed(now) };
      const state = down ? circuitFailed(c, settings, lastError, now) : circuitClosed(now);
      return { result: state, write: { state, expiresAt: circuitExpiry(state, now) } };
    });
  }

  /** The host's circuit as stored, for the admin's views and for failover. */
  async circuit(host: string, port: number): Promise<HostCircuit | undefined> {
    return (await this.#store.read<HostCircuit>(hostKey(host, port)))?.state;
  }

  now(): number {
    return this.#clock.now().getTime();
  }
}
