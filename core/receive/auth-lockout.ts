// AUTH lockout on the shared counters: refuse locked or exhausted attempts, count failures, show and clear a user's lock.
import type { RateCounterStore } from "../ports.ts";
import type { TransportSettings } from "../records/transport-settings.ts";
import {
  attemptAllowed,
  type LockoutPolicy,
  type LockoutScope,
  lockoutKeys,
  lockoutPolicy,
  locksOut,
} from "./limits.ts";

export interface Lock {
  scope: LockoutScope;
  until: Date;
}

/** A lockout a failure has just started. */
export interface NewLockout extends Lock {
  /** Attempts counted in the observation window when it started. */
  failures: number;
  /** True when it came from the repeat window rather than the threshold. */
  repeat: boolean;
}

interface Reservation {
  scope: LockoutScope;
  keys: ReturnType<typeof lockoutKeys>;
  policy: LockoutPolicy;
  count: number;
  repeat: boolean;
}

/** An AUTH attempt: refused without a password check, or allowed with its reservations. */
export type AuthAttempt =
  | { allowed: false; lock?: Lock; exhausted?: LockoutScope }
  | { allowed: true; reservations: Reservation[] };

/**
 * Before the password is checked. Refused when the address or the name is locked, or when the
 * attempts already counted in the window (in flight on other connections or tasks included) use
 * up the allowance; otherwise one failure is reserved in each scope, given back on success.
 */
export async function beginAuthAttempt(
  counters: RateCounterStore,
  settings: TransportSettings,
  ip: string,
  user: string,
): Promise<AuthAttempt> {
  const live: Array<[LockoutScope, string]> = (
    [
      ["ip", ip],
      ["user", user],
    ] as Array<[LockoutScope, string]>
  ).filter(([scope]) => lockoutPolicy(settings, scope).threshold > 0);
  const locks = await Promise.all(
    live.map(async ([scope, value]) => {
      const lock = await counters.get(lockoutKeys(scope, value).lock);
      return lock ? { scope, until: lock.expiresAt } : undefined;
    }),
  );
  const lock = locks.find((l) => l !== undefined);
  if (lock) return { allowed: false, lock };
  const reservations = await Promise.all(
    live.map(async ([scope, value]): Promise<Reservation> => {
      const keys = lockoutKeys(scope, value);
      const policy = lockoutPolicy(settings, scope);
      const [counted, before] = await Promise.all([
        counters.increment(keys.failures, policy.windowSeconds),
        policy.repeatWindowSeconds > 0 ? counters.get(keys.repeat) : undefined,
      ]);
      return { scope, keys, policy, count: counted.count, repeat: before !== undefined };
    }),
  );
  const exhausted = reservations.find((r) => !attemptAllowed(r.policy, r.count, r.repeat));
  if (!exhausted) return { allowed: true, reservations };
  await giveBack(counters, reservations);
  return { allowed: false, exhausted: exhausted.scope };
}

const giveBack = (counters: RateCounterStore, reservations: Reservation[]) =>
  Promise.all(
    reservations.map((r) => counters.increment(r.keys.failures, r.policy.windowSeconds, -1)),
  );

/**
 * A right password gives back its reservation, and nothing more: an address guessing many names,
 * or a name guessed from many addresses, is not let off by one success (Active Directory resets
 * on success, which lets a guesser go on forever beside a device that logs in every minute).
 */
export async function authAttemptSucceeded(
  counters: RateCounterStore,
  attempt: AuthAttempt,
): Promise<void> {
  if (attempt.allowed) await giveBack(counters, attempt.reservations);
}

/** A wrong password: its reservation stays a failure; starts the lockouts it calls for. */
export async function authAttemptFailed(
  counters: RateCounterStore,
  attempt: AuthAttempt,
): Promise<NewLockout[]> {
  if (!attempt.allowed) return [];
  const started = await Promise.all(
    attempt.reservations.map(async (r): Promise<NewLockout | undefined> => {
      if (!locksOut(r.policy, r.count, r.repeat)) return undefined;
      // The lock's count is the failures that started it (what `relay user get` shows).
      const lock = await counters.increment(r.keys.lock, r.policy.durationSeconds, r.count);
      // Another connection or task may have locked it a moment ago: only the first reports it.
      if (lock.count !== r.count) return undefined;
      // After the lockout the next attempt starts the count again, and the repeat window allows one.
      await counters.delete(r.keys.failures);
      if (r.policy.repeatWindowSeconds > 0)
        await counters.increment(r.keys.repeat, r.policy.repeatWindowSeconds);
      return { scope: r.scope, until: lock.expiresAt, failures: r.count, repeat: r.repeat };
    }),
  );
  return started.filter((l): l is NewLockout => l !== undefined);
}

export interface UserLockoutStatus {
  /** When the name's lockout ends; absent when it is not locked. */
  lockedUntil?: Date;
  /** While locked: the failures that locked it; else those in the current observation window. */
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
  if (lock) return { lockedUntil: lock.expiresAt, failures: lock.count };
  return { failures: Math.max(0, failures?.count ?? 0) };
}

/** Frees a locked name at once: its lock, failures and repeat window (`relay user set --unlock`). */
export async function unlockUser(counters: RateCounterStore, user: string): Promise<void> {
  const keys = lockoutKeys("user", user);
  await Promise.all([keys.lock, keys.failures, keys.repeat].map((k) => counters.delete(k)));
}
