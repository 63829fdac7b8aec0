// AUTH lockout on the shared counters: is this address or name locked, count a failure, show and clear a user's lock.
import type { RateCounterStore } from "../ports.ts";
import type { TransportSettings } from "../records/transport-settings.ts";
import { type LockoutScope, lockoutKeys, lockoutPolicy, locksOut } from "./limits.ts";

export interface Lock {
  scope: LockoutScope;
  until: Date;
}

/** A lockout a failure has just started. */
export interface NewLockout extends Lock {
  /** Failures within the observation window when it started. */
  failures: number;
  /** True when it came from the repeat window rather than the threshold. */
  repeat: boolean;
}

const scopes = (ip: string, user: string): Array<[LockoutScope, string]> => [
  ["ip", ip],
  ["user", user],
];

/** The lock on the client's address or on the name it gives, if either is locked (address first). */
export async function activeLock(
  counters: RateCounterStore,
  ip: string,
  user: string,
): Promise<Lock | undefined> {
  const found = await Promise.all(
    scopes(ip, user).map(async ([scope, value]) => {
      const lock = await counters.get(lockoutKeys(scope, value).lock);
      return lock ? { scope, until: lock.expiresAt } : undefined;
    }),
  );
  return found.find((l) => l !== undefined);
}

/**
 * Counts one failed AUTH against the address and the name and starts the lockouts it calls for.
 * A success never clears these counts: an address guessing many names, or a name guessed from
 * many addresses, is not let off by one right password (Active Directory resets on success; that
 * lets a guesser go on forever beside a device that logs in every minute).
 */
export async function recordAuthFailure(
  counters: RateCounterStore,
  settings: TransportSettings,
  ip: string,
  user: string,
): Promise<NewLockout[]> {
  const started = await Promise.all(
    scopes(ip, user).map(async ([scope, value]): Promise<NewLockout | undefined> => {
      const policy = lockoutPolicy(settings, scope);
      if (policy.threshold <= 0) return undefined;
      const keys = lockoutKeys(scope, value);
      const [failures, before] = await Promise.all([
        counters.increment(keys.failures, policy.windowSeconds),
        policy.repeatWindowSeconds > 0 ? counters.get(keys.repeat) : undefined,
      ]);
      const repeat = before !== undefined && failures.count < policy.threshold;
      if (!locksOut(policy, failures.count, before !== undefined)) return undefined;
      const lock = await counters.increment(keys.lock, policy.durationSeconds);
      // Another task may have locked it a moment ago: only the first reports the lockout.
      if (lock.count > 1) return undefined;
      if (policy.repeatWindowSeconds > 0)
        await counters.increment(keys.repeat, policy.repeatWindowSeconds);
      return { scope, until: lock.expiresAt, failures: failures.count, repeat };
    }),
  );
  return started.filter((l): l is NewLockout => l !== undefined);
}

export interface UserLockoutStatus {
  /** When the name's lockout ends; absent when it is not locked. */
  lockedUntil?: Date;
  /** Failed AUTH for the name in the current observation window. */
  failures: number;
}

export async function userLockoutStatus(
  counters: RateCounterStore,
  user: string,
): Promise<UserLockoutStatus> {
  const keys = lockoutKeys("user", user);
  const [lock, failures] = await Promise.all([
    counters.get(keys.lock),
    counters.get(keys.failures),
  ]);
  return { ...(lock ? { lockedUntil: lock.expiresAt } : {}), failures: failures?.count ?? 0 };
}

/** Frees a locked name at once: its lock, failures and repeat window (`relay user set --unlock`). */
export async function unlockUser(counters: RateCounterStore, user: string): Promise<void> {
  const keys = lockoutKeys("user", user);
  await Promise.all([keys.lock, keys.failures, keys.repeat].map((k) => counters.delete(k)));
}
