// Retention of protocol logs and message tracking: Exchange's max age, max directory size and max file size, as pure decisions.
import type { TransportSettings } from "./records/transport-settings.ts";

const DAY_MS = 86_400_000;
/** Exchange's MB: 1024 × 1024 bytes. */
const MB = 1024 * 1024;
/** Exchange's MessageTrackingLogMaxAge. */
export const DEFAULT_TRACKING_MAX_AGE_DAYS = 30;

export type ProtocolLogName = "receive" | "send";

export interface LogLimits {
  maxAgeMs: number;
  maxDirectoryBytes: number;
  maxFileBytes: number;
}

export function logLimits(settings: TransportSettings, log: ProtocolLogName): LogLimits {
  return {
    maxAgeMs: settings[`${log}ProtocolLogMaxAgeDays`] * DAY_MS,
    maxDirectoryBytes: Math.floor(settings[`${log}ProtocolLogMaxDirectorySizeMb`] * MB),
    maxFileBytes: Math.floor(settings[`${log}ProtocolLogMaxFileSizeMb`] * MB),
  };
}

/** Days finished messages stay in tracking: the record's setting, else the runtime's default. */
export function trackingMaxAgeDays(
  settings: TransportSettings,
  fallbackDays = DEFAULT_TRACKING_MAX_AGE_DAYS,
): number {
  return settings.messageTrackingLogMaxAgeDays ?? fallbackDays;
}

export interface LogFileInfo {
  name: string;
  size: number;
  mtimeMs: number;
}

/**
 * The files of one log to delete, whichever limit is reached first (as Exchange does): every file
 * last written before the max age, then the oldest until the rest fit in the directory size. The
 * size limit never takes the newest file, the one being written; a file past the max age is no
 * longer written (each day starts a new one), so age takes it even when it is the newest.
 */
export function logFilesToDelete(files: LogFileInfo[], limits: LogLimits, nowMs: number): string[] {
  const byAge = [...files].sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
  const doomed = new Set(
    byAge.filter((f) => f.mtimeMs < nowMs - limits.maxAgeMs).map((f) => f.name),
  );
  let total = byAge.reduce((sum, f) => sum + (doomed.has(f.name) ? 0 : f.size), 0);
  for (const f of byAge.slice(0, -1)) {
    if (total <= limits.maxDirectoryBytes) break;
    if (doomed.has(f.name)) continue;
    doomed.add(f.name);
    total -= f.size;
  }
  return byAge.filter((f) => doomed.has(f.name)).map((f) => f.name);
}
