// AUTH lockout of SMTP users in the CLI: what `relay user get` shows beside the record, and `relay user set --unlock`.
import { unlockUser, userLockoutStatus } from "#core/receive/auth-lockout.ts";
import type { CliContext } from "../context.ts";

/**
 * The user record with its lockout state from the shared counters: `lockout.locked`, `lockedUntil`
 * (ISO time, while locked) and `failures` (failed AUTH in the current observation window).
 */
export async function withLockout(
  ctx: CliContext,
  record: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const s = await userLockoutStatus(await ctx.counters(), String(record.name));
  const lockout = {
    locked: s.lockedUntil !== undefined,
    ...(s.lockedUntil ? { lockedUntil: s.lockedUntil.toISOString() } : {}),
    failures: s.failures,
  };
  return { ...record, lockout };
}

export async function unlock(ctx: CliContext, name: string): Promise<void> {
  await unlockUser(await ctx.counters(), name);
}
