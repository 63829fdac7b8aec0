// Preloaded into the relay by `npm run bench:soak` (node --import): every thread appends its heap figures to a file.
// `--import` runs again in each worker thread, so the listener and the pipeline thread both report.
import { appendFileSync } from "node:fs";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { threadId } from "node:worker_threads";

const file = process.env.RELAY_SOAK_SAMPLES;
const everyMs = Number(process.env.RELAY_SOAK_EVERY_MS ?? 10_000);

function sample(): void {
  if (!file) return;
  // A full collection first (the relay runs with --expose-gc), so heapUsed is what is still
  // reachable: garbage waiting for the next collection would hide or fake a trend.
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const h = getHeapStatistics();
  const line = {
    t: Date.now(),
    thread: threadId,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    mallocedMemory: h.malloced_memory,
    // Reserved size of each space: the young generation's share shows how much of RSS is V8's by design.
    spaces: Object.fromEntries(
      getHeapSpaceStatistics().map((x) => [x.space_name, Math.round(x.space_size / 2 ** 20)]),
    ),
    // Process-wide; written by every thread, read from the main thread's lines.
    rss: m.rss,
  };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

if (file) setInterval(sample, everyMs).unref();
