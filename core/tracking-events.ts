// Message tracking's one order: events kept on their own and events kept on recipient rows, merged by time.
import type { TrackingEvent } from "./ports.ts";

/**
 * Merges two lists already in order by `at` (the events kept on their own, e.g. RECEIVE and DSN,
 * and those kept on recipient rows); at a tie the one kept on its own comes first, as it was
 * written first (the DSN of a failure before the row turns Failed). The sort is stable.
 */
export function inTimeOrder(logged: TrackingEvent[], onRows: TrackingEvent[]): TrackingEvent[] {
  return [...logged.map((e) => [0, e] as const), ...onRows.map((e) => [1, e] as const)]
    .sort(([sa, a], [sb, b]) => a.at.localeCompare(b.at) || sa - sb)
    .map(([, e]) => e);
}
