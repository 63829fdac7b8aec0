// Retention settings (Exchange's names and defaults) and the pure decision of which protocol log files go.
import { expect, test } from "vitest";
import { parseRecord } from "#core/records/index.ts";
import { DEFAULT_TRANSPORT_SETTINGS } from "#core/records/transport-settings.ts";
import { logFilesToDelete, logLimits, trackingMaxAgeDays } from "#core/retention.ts";

const DAY = 86_400_000;
const MB = 1024 * 1024;

test("defaults are Exchange's: 30 days, 250 MB per log directory, 10 MB files", () => {
  for (const log of ["receive", "send"] as const)
    expect(logLimits(DEFAULT_TRANSPORT_SETTINGS, log)).toEqual({
      maxAgeMs: 30 * DAY,
      maxDirectoryBytes: 250 * MB,
      maxFileBytes: 10 * MB,
    });
  expect(trackingMaxAgeDays(DEFAULT_TRANSPORT_SETTINGS)).toBe(30);
  expect(trackingMaxAgeDays(DEFAULT_TRANSPORT_SETTINGS, 7)).toBe(7);
  const set = parseRecord({ kind: "TransportSettings", messageTrackingLogMaxAgeDays: 90 });
  expect(
    set.ok && set.record.kind === "TransportSettings" && trackingMaxAgeDays(set.record, 7),
  ).toBe(90);
});

test("a file size above the directory size, or a size that is not positive, is refused by field", () => {
  const bigFile = parseRecord({
    kind: "TransportSettings",
    sendProtocolLogMaxDirectorySizeMb: 5,
    sendProtocolLogMaxFileSizeMb: 10,
  });
  expect(bigFile.ok).toBe(false);
  expect(!bigFile.ok && bigFile.problems.map((p) => [p.field, p.message])).toEqual([
    ["sendProtocolLogMaxFileSizeMb", "must not exceed sendProtocolLogMaxDirectorySizeMb (5)"],
  ]);
  const zero = parseRecord({ kind: "TransportSettings", receiveProtocolLogMaxAgeDays: 0 });
  expect(!zero.ok && zero.problems.map((p) => p.field)).toEqual(["receiveProtocolLogMaxAgeDays"]);
});

test("age first, then the oldest files until the rest fit; size never takes the newest", () => {
  const now = 100 * DAY;
  const f = (name: string, size: number, ageDays: number) => ({
    name,
    size,
    mtimeMs: now - ageDays * DAY,
  });
  const limits = { maxAgeMs: 30 * DAY, maxDirectoryBytes: 300, maxFileBytes: 100 };
  const files = [f("e", 100, 0), f("a", 100, 40), f("c", 100, 10), f("b", 100, 20), f("d", 100, 5)];
  expect(logFilesToDelete(files, limits, now)).toEqual(["a", "b"]);
  expect(logFilesToDelete(files, { ...limits, maxDirectoryBytes: 1000 }, now)).toEqual(["a"]);
  expect(logFilesToDelete([f("only", 500, 20)], limits, now)).toEqual([]);
  expect(logFilesToDelete([f("only", 500, 90)], limits, now)).toEqual(["only"]);
  expect(logFilesToDelete([], limits, now)).toEqual([]);
});
