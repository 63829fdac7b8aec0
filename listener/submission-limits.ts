// Rate limits and AUTH lockout in a session: asks core's rules and the shared counters, logs and counts what they decide.
import type { Metrics } from "#core/metrics.ts";
import type { RateCounterStore } from "#core/ports.ts";
import {
  type AuthAttempt,
  authAttemptFailed,
  authAttemptSucceeded,
  beginAuthAttempt,
} from "#core/receive/auth-lockout.ts";
import {
  MESSAGE_RATE_WINDOW_SECONDS,
  messageRateKeys,
  RECIPIENT_RATE_WINDOW_SECONDS,
  recipientRateKey,
} from "#core/receive/limits.ts";
import type { RecordSet } from "#core/records/record-set.ts";
import type { SmtpUser } from "#core/records/smtp-user.ts";
import { REPLIES, type SmtpReply } from "#core/replies.ts";
import type { RelayConnection } from "./connection.ts";
import type { Logger } from "./logger.ts";

export interface LimitDeps {
  counters: RateCounterStore;
  metrics: Metrics;
  logger: Logger;
}

/*
 * When the counter store cannot be reached (DynamoDB throttling, a network fault) the limits fail
 * open: mail keeps flowing, the error is logged, and the tarpit and maxProtocolErrors still slow a
 * guesser. Failing closed would turn a counter outage into a submission outage.
 */
async function failOpen<T>(deps: LimitDeps, what: string, work: () => Promise<T>, fallback: T) {
  try {
    return await work();
  } catch (error) {
    deps.logger.error("rate counter store failed; limit not applied", { limit: what, error });
    return fallback;
  }
}

/**
 * Before an AUTH's password is checked: refused (454 4.7.0 by the caller) when its address or name
 * is locked out or the window's allowance is used up by attempts in flight.
 */
export function beginAuth(
  deps: LimitDeps,
  conn: RelayConnection,
  username: string,
  records: RecordSet,
): Promise<AuthAttempt> {
  return failOpen(
    deps,
    "auth lockout",
    () => beginAuthAttempt(deps.counters, records.settings, conn.remoteAddress, username),
    { allowed: true, reservations: [] },
  );
}

export function authSucceeded(deps: LimitDeps, attempt: AuthAttempt): Promise<void> {
  return failOpen(
    deps,
    "auth lockout",
    () => authAttemptSucceeded(deps.counters, attempt),
    undefined,
  );
}

/**
 * Counts a failed AUTH and logs each lockout it starts at warn. The attempted name is logged only
 * when it is a real user's: a name that matches nothing is often a password typed in the wrong box.
 */
export async function authFailed(
  deps: LimitDeps,
  conn: RelayConnection,
  username: string,
  records: RecordSet,
  attempt: AuthAttempt,
): Promise<void> {
  const started = await failOpen(
    deps,
    "auth lockout",
    () => authAttemptFailed(deps.counters, attempt),
    [],
  );
  const known = records.smtpUsers.find((u) => u.name.toLowerCase() === username.toLowerCase());
  for (const lock of started) {
    deps.logger.warn("AUTH lockout", {
      scope: lock.scope,
      client: conn.remoteAddress,
      user: known?.name ?? "(not a user name)",
      failures: lock.failures,
      repeat: lock.repeat,
      lockedUntil: lock.until.toISOString(),
      connector: conn.plan.connector?.name,
    });
    deps.metrics.count("AuthLockout", { scope: lock.scope });
    const what = lock.scope === "ip" ? "address" : "user name";
    conn.plan.log?.("*", `AUTH lockout of the ${what} until ${lock.until.toISOString()}`);
  }
}

function refused(
  deps: LimitDeps,
  conn: RelayConnection,
  reply: SmtpReply,
  fields: Record<string, unknown>,
): SmtpReply {
  // The reply itself is logged once at info, with this rule, where every refusal leaves.
  const rule = `${fields.limit} ${fields.limitValue} exceeded (${fields.count})`;
  conn.refuse(rule);
  deps.metrics.count("RateLimited", { limit: String(fields.limit) });
  conn.plan.log?.("*", rule);
  return reply;
}

/**
 * MessageRateLimit. At MAIL FROM (`count` false) a client already at the limit is refused before
 * it sends the message; at the end of DATA (`count` true) the message is counted and refused when
 * it is one too many, before anything is queued. Resolves the reply to give, or undefined.
 */
export async function messageRate(
  deps: LimitDeps,
  conn: RelayConnection,
  user: SmtpUser | undefined,
  count: boolean,
): Promise<SmtpReply | undefined> {
  const connector = conn.plan.connector;
  const limit = connector?.messageRateLimit;
  if (!connector || limit === undefined) return undefined;
  const keys = messageRateKeys(connector, {
    clientIp: conn.remoteAddress,
    ...(user ? { user: user.name } : {}),
  });
  const counts = await failOpen(
    deps,
    "messageRateLimit",
    () =>
      Promise.all(
        keys.map(async (k) =>
          count
            ? (await deps.counters.increment(k, MESSAGE_RATE_WINDOW_SECONDS)).count
            : ((await deps.counters.get(k))?.count ?? 0) + 1,
        ),
      ),
    [],
  );
  const worst = Math.max(0, ...counts);
  if (worst <= limit) return undefined;
  return refused(deps, conn, REPLIES.messageRateExceeded, {
    limit: "messageRateLimit",
    limitValue: limit,
    source: connector.messageRateSource,
    user: user?.name,
    count: count ? worst : worst - 1,
  });
}

/** SmtpUser.recipientRateLimit, counted per accepted RCPT; resolves 452 4.5.3 over it. */
export async function recipientRate(
  deps: LimitDeps,
  conn: RelayConnection,
  user: SmtpUser | undefined,
): Promise<SmtpReply | undefined> {
  const limit = user?.recipientRateLimit;
  if (!user || limit === undefined) return undefined;
  const n = await failOpen(
    deps,
    "recipientRateLimit",
    async () =>
      (await deps.counters.increment(recipientRateKey(user.name), RECIPIENT_RATE_WINDOW_SECONDS))
        .count,
    0,
  );
  if (n <= limit) return undefined;
  return refused(deps, conn, REPLIES.recipientRateExceeded, {
    limit: "recipientRateLimit",
    limitValue: limit,
    user: user.name,
    count: n,
  });
}
