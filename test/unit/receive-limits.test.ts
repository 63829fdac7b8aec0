// Submission limits as rules (counter keys, MessageRateSource, lockout thresholds) and the lockout flow on the memory counters.
import { describe, expect, test } from "vitest";
import { MemoryRateCounterStore } from "#adapters/memory/rate-counter-store.ts";
import {
  authAttemptFailed,
  authAttemptSucceeded,
  beginAuthAttempt,
  unlockUser,
  userLockoutStatus,
} from "#core/receive/auth-lockout.ts";
import { attemptAllowed, clientSource, locksOut, messageRateKeys } from "#core/receive/limits.ts";
import { TransportSettingsSchema } from "#core/records/transport-settings.ts";
import { ManualClock } from "#test/support/clock.ts";

describe("clientSource: what a per-address counter counts", () => {
  test.each([
    ["192.0.2.7", "192.0.2.7"],
    ["::ffff:192.0.2.7", "192.0.2.7"],
    ["2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"],
    ["2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"],
    ["2001:db8:1:3::1", "2001:db8:1:3::/64"],
  ])("%s counts as %s", (ip, source) => {
    expect(clientSource(ip)).toBe(source);
  });
});

describe("messageRateKeys: Exchange's MessageRateSource", () => {
  const c = (messageRateSource: "IPAddress" | "User" | "All") => ({
    name: "Client Frontend",
    messageRateSource,
  });
  test.each([
    ["IPAddress", undefined, ["msg:client frontend:ip:192.0.2.7"]],
    ["IPAddress", "Scanner", ["msg:client frontend:ip:192.0.2.7"]],
    ["User", "Scanner", ["msg:client frontend:user:scanner"]],
    // An anonymous session has no user to count, as in Exchange.
    ["User", undefined, []],
    ["All", "Scanner", ["msg:client frontend:ip:192.0.2.7", "msg:client frontend:user:scanner"]],
    ["All", undefined, ["msg:client frontend:ip:192.0.2.7"]],
  ] as const)("%s with user %s counts %j", (source, user, keys) => {
    expect(
      messageRateKeys(c(source), { clientIp: "192.0.2.7", ...(user ? { user } : {}) }),
    ).toEqual(keys);
  });
});

describe("lockout thresholds", () => {
  test.each([
    // threshold, attempt number in the window, locked before (repeat window), allowed, locks on failure
    [10, 1, false, true, false],
    [10, 9, false, true, false],
    [10, 10, false, true, true],
    [10, 11, false, false, true],
    [10, 1, true, true, true],
    [10, 2, true, false, true],
    [0, 500, true, true, false],
  ])(
    "threshold %i, attempt %i, repeat %s: allowed %s, locks %s",
    (threshold, n, repeat, allowed, locks) => {
      expect(attemptAllowed({ threshold }, n, repeat)).toBe(allowed);
      expect(locksOut({ threshold }, n, repeat)).toBe(locks);
    },
  );
});

describe("the lockout flow on shared counters", () => {
  const settings = TransportSettingsSchema.parse({
    kind: "TransportSettings",
    lockoutThresholdPerIp: 3,
    lockoutThresholdPerUser: 5,
  });
  const setup = () => {
    const clock = new ManualClock();
    return { clock, counters: new MemoryRateCounterStore(clock) };
  };
  async function fail(counters: MemoryRateCounterStore, ip: string, user: string) {
    const attempt = await beginAuthAttempt(counters, settings, ip, user);
    return { attempt, started: await authAttemptFailed(counters, attempt) };
  }

  test("the third failure from one address locks it for lockoutDurationSeconds, whatever the name", async () => {
    const { clock, counters } = setup();
    expect((await fail(counters, "192.0.2.7", "a")).started).toEqual([]);
    expect((await fail(counters, "192.0.2.7", "b")).started).toEqual([]);
    const third = await fail(counters, "192.0.2.7", "c");
    expect(third.started).toEqual([
      { scope: "ip", until: new Date(clock.now().getTime() + 900_000), failures: 3, repeat: false },
    ]);
    const next = await beginAuthAttempt(counters, settings, "192.0.2.7", "scanner");
    expect(next).toMatchObject({ allowed: false, lock: { scope: "ip" } });
    expect((await beginAuthAttempt(counters, settings, "192.0.2.8", "scanner")).allowed).toBe(true);
  });

  test("a success gives back only its own attempt: it does not reset an address guessing other names", async () => {
    const { counters } = setup();
    await fail(counters, "192.0.2.7", "a");
    await fail(counters, "192.0.2.7", "b");
    const ok = await beginAuthAttempt(counters, settings, "192.0.2.7", "scanner");
    await authAttemptSucceeded(counters, ok);
    expect((await fail(counters, "192.0.2.7", "c")).started.map((l) => l.scope)).toEqual(["ip"]);
  });

  test("attempts in flight count before their check: parallel guesses cannot pass the threshold", async () => {
    const { counters } = setup();
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        beginAuthAttempt(counters, settings, "192.0.2.7", `n${i}`),
      ),
    );
    expect(attempts.filter((a) => a.allowed)).toHaveLength(3);
  });

  test("after a lockout ends, one more failure within the repeat window locks again at once", async () => {
    const { clock, counters } = setup();
    for (const n of ["a", "b", "c"]) await fail(counters, "192.0.2.7", n);
    clock.advance(901_000);
    const again = await fail(counters, "192.0.2.7", "d");
    expect(again.started).toMatchObject([{ scope: "ip", repeat: true, failures: 1 }]);
    clock.advance(24 * 3600_000);
    // Past the repeat window a fresh threshold applies.
    expect((await fail(counters, "192.0.2.7", "e")).started).toEqual([]);
  });

  test("a user name guessed from several addresses is locked; status shows it; unlock frees it", async () => {
    const { clock, counters } = setup();
    const ips = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"];
    const started = [];
    for (const ip of ips) started.push(...(await fail(counters, ip, "Scanner")).started);
    expect(started).toMatchObject([{ scope: "user", failures: 5 }]);
    expect(await userLockoutStatus(counters, "scanner")).toEqual({
      lockedUntil: new Date(clock.now().getTime() + 900_000),
      failures: 5,
    });
    expect((await beginAuthAttempt(counters, settings, "198.51.100.1", "SCANNER")).allowed).toBe(
      false,
    );
    await unlockUser(counters, "scanner");
    expect(await userLockoutStatus(counters, "scanner")).toEqual({ failures: 0 });
    expect((await beginAuthAttempt(counters, settings, "198.51.100.1", "scanner")).allowed).toBe(
      true,
    );
  });
});
