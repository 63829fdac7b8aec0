// Retry and expiry timing: Exchange's defaults (Set-TransportService: retry intervals, delay DSN, expiry) and custom schedules.
import { describe, expect, test } from "vitest";
import {
  DEFAULT_TRANSPORT_SETTINGS,
  type TransportSettings,
  TransportSettingsSchema,
} from "#core/records/transport-settings.ts";
import {
  delayDsnDue,
  expiresAt,
  isExpired,
  nextAttemptAt,
  retryDelaySeconds,
} from "#core/retry.ts";

const settings = DEFAULT_TRANSPORT_SETTINGS;
const received = new Date("2026-03-02T09:00:00Z");
const at = (seconds: number) => new Date(received.getTime() + seconds * 1000);
const MIN = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;

describe("retryDelaySeconds with the default schedule (retry 1 min ×4, 5 min ×6, then every 15 min)", () => {
  test.each([
    [0, 0],
    [1, 60],
    [4, 60],
    [5, 300],
    [10, 300],
    [11, 900],
    [12, 900],
    [500, 900],
  ])("after %d failed attempts wait %d s", (attempts, seconds) => {
    expect(retryDelaySeconds(settings, attempts)).toBe(seconds);
  });

  test("the whole schedule, attempt by attempt", () => {
    const delays = Array.from({ length: 13 }, (_, i) => retryDelaySeconds(settings, i + 1));
    expect(delays).toEqual([60, 60, 60, 60, 300, 300, 300, 300, 300, 300, 900, 900, 900]);
  });
});

describe("a custom schedule: the last interval repeats", () => {
  const custom: TransportSettings = TransportSettingsSchema.parse({
    kind: "TransportSettings",
    retrySchedule: [
      { intervalSeconds: 30, count: 2 },
      { intervalSeconds: 600, count: 3 },
    ],
    messageExpirationTimeoutSeconds: HOUR,
    delayNotificationTimeoutSeconds: 0,
  });
  test.each([
    [1, 30],
    [2, 30],
    [3, 600],
    [5, 600],
    [6, 600],
    [99, 600],
  ])("attempt %d → %d s", (attempts, seconds) => {
    expect(retryDelaySeconds(custom, attempts)).toBe(seconds);
  });

  test("delay notifications off (0) are never due", () => {
    expect(delayDsnDue(custom, received, at(59 * MIN), false)).toBe(false);
  });
});

describe("expiry after 2 days", () => {
  test("expiresAt is two days after arrival", () => {
    expect(expiresAt(settings, received).toISOString()).toBe("2026-03-04T09:00:00.000Z");
  });

  test.each([
    [0, false],
    [2 * DAY - 1, false],
    [2 * DAY, true],
    [3 * DAY, true],
  ])("%d s after arrival expired: %s", (seconds, expired) => {
    expect(isExpired(settings, received, at(seconds))).toBe(expired);
  });
});

describe("delay DSN after 4 hours", () => {
  test.each([
    [4 * HOUR - 1, false, false],
    [4 * HOUR, false, true],
    [10 * HOUR, false, true],
    [10 * HOUR, true, false],
    // At expiry the NDR replaces the delay notice.
    [2 * DAY, false, false],
  ])("%d s after arrival, already notified %s → due %s", (seconds, notified, due) => {
    expect(delayDsnDue(settings, received, at(seconds), notified)).toBe(due);
  });
});

describe("nextAttemptAt", () => {
  test("the first failure retries one minute later", () => {
    expect(nextAttemptAt(settings, received, 1, at(5))).toEqual(at(65));
  });

  test("the interval counts from the failure, not from arrival", () => {
    expect(nextAttemptAt(settings, received, 11, at(10 * HOUR))).toEqual(at(10 * HOUR + 15 * MIN));
  });

  test("a retry that would fall after expiry happens at the expiry instant instead", () => {
    const failure = at(2 * DAY - 5 * MIN);
    expect(nextAttemptAt(settings, received, 40, failure)).toEqual(expiresAt(settings, received));
  });

  test("a failure at or after expiry expires the message", () => {
    expect(nextAttemptAt(settings, received, 41, at(2 * DAY))).toBe("expire");
    expect(nextAttemptAt(settings, received, 41, at(2 * DAY + 30))).toBe("expire");
  });

  test("simulated from arrival to expiry: quick retries first, then every 15 minutes, never past expiry", () => {
    const times: number[] = [];
    let now = received;
    let attempts = 0;
    for (;;) {
      attempts += 1; // the attempt at `now` failed transiently
      const next = nextAttemptAt(settings, received, attempts, now);
      if (next === "expire") break;
      expect(next.getTime()).toBeGreaterThan(now.getTime());
      expect(next.getTime()).toBeLessThanOrEqual(expiresAt(settings, received).getTime());
      times.push((next.getTime() - received.getTime()) / 1000);
      now = next;
    }
    expect(times.slice(0, 11)).toEqual([60, 120, 180, 240, 540, 840, 1140, 1440, 1740, 2040, 2940]);
    expect(times.at(-1)).toBe(2 * DAY);
    // 4 quick + 6 five-minute retries take 34 minutes; the rest of the 2 days at 15 minutes, plus
    // the final attempt at the expiry instant.
    expect(times.length).toBe(10 + Math.ceil((2 * DAY - 34 * MIN) / (15 * MIN)));
  });
});
