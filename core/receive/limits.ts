// Submission limits as rules: counter keys, Exchange's MessageRateSource, and when failed AUTH locks out.
import ipaddr from "ipaddr.js";
import type { MessageRateSource, ReceiveConnector } from "../records/receive-connector.ts";
import type { TransportSettings } from "../records/transport-settings.ts";

/**
 * The client a per-address counter counts: the address itself for IPv4 (IPv4-mapped IPv6 unwrapped),
 * the /64 for IPv6, since one subscriber or cloud instance is routinely given a whole /64 and would
 * otherwise get a fresh allowance with every address in it.
 */
export function clientSource(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const addr = ipaddr.process(ip);
  if (addr.kind() === "ipv4") return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(":")}::/64`;
}

/** A user name as counters key it: case-insensitive like AUTH, bounded (names are at most 128). */
export const userSource = (name: string): string => name.trim().toLowerCase().slice(0, 129);

export interface SubmitterFacts {
  clientIp: string;
  /** The authenticated user's name; absent for an anonymous session. */
  user?: string;
}

/**
 * Keys of the MessageRateLimit counters one message counts against (per connector, as Exchange
 * keeps the limit per receive connector). IPAddress counts every session by address; User counts
 * authenticated sessions by user (an anonymous session has no user to count, as in Exchange);
 * All counts both, and the message is refused when either is over.
 */
export function messageRateKeys(
  connector: Pick<ReceiveConnector, "name" | "messageRateSource">,
  who: SubmitterFacts,
): string[] {
  const base = `msg:${connector.name.toLowerCase()}`;
  const bySource: Record<MessageRateSource, Array<"ip" | "user">> = {
    IPAddress: ["ip"],
    User: ["user"],
    All: ["ip", "user"],
  };
  return bySource[connector.messageRateSource].flatMap((kind) => {
    if (kind === "ip") return [`${base}:ip:${clientSource(who.clientIp)}`];
    return who.user !== undefined ? [`${base}:user:${userSource(who.user)}`] : [];
  });
}

/** MessageRateLimit is per minute. */
export const MESSAGE_RATE_WINDOW_SECONDS = 60;
/** SmtpUser.recipientRateLimit is per hour. */
export const RECIPIENT_RATE_WINDOW_SECONDS = 3600;

export const recipientRateKey = (user: string): string => `rcpt:user:${userSource(user)}`;

export type LockoutScope = "ip" | "user";

/** The counters of one lockout scope: failures in the window, the lock, and the repeat window. */
export function lockoutKeys(scope: LockoutScope, value: string) {
  const id = scope === "ip" ? clientSource(value) : userSource(value);
  return {
    failures: `authfail:${scope}:${id}`,
    lock: `lock:${scope}:${id}`,
    repeat: `lockrepeat:${scope}:${id}`,
  };
}

export interface LockoutPolicy {
  threshold: number;
  windowSeconds: number;
  durationSeconds: number;
  repeatWindowSeconds: number;
}

export function lockoutPolicy(s: TransportSettings, scope: LockoutScope): LockoutPolicy {
  return {
    threshold: scope === "ip" ? s.lockoutThresholdPerIp : s.lockoutThresholdPerUser,
    windowSeconds:
      scope === "ip"
        ? s.lockoutObservationWindowPerIpSeconds
        : s.lockoutObservationWindowPerUserSeconds,
    durationSeconds: s.lockoutDurationSeconds,
    repeatWindowSeconds: s.lockoutRepeatWindowSeconds,
  };
}

/**
 * Whether an AUTH may have its password checked, when it is the `count`-th attempt of the window
 * (itself included; attempts are counted before the check, so parallel connections cannot all
 * slip in before the first failure is recorded). After a lockout, within the repeat window, only
 * one attempt is allowed. A threshold of 0 turns the lockout off.
 */
export function attemptAllowed(
  policy: Pick<LockoutPolicy, "threshold">,
  count: number,
  lockedBefore: boolean,
): boolean {
  if (policy.threshold <= 0) return true;
  return count <= (lockedBefore ? 1 : policy.threshold);
}

/**
 * Whether a failed AUTH locks its address or name: at the threshold within the window, or at once
 * when a lockout ended within the repeat window (so a guesser waiting out each lockout gets one
 * try per lockout, not a fresh threshold). A threshold of 0 never locks.
 */
export function locksOut(
  policy: Pick<LockoutPolicy, "threshold">,
  failures: number,
  lockedBefore: boolean,
): boolean {
  if (policy.threshold <= 0) return false;
  return failures >= policy.threshold || lockedBefore;
}
