// How much memory V8 may reserve for new objects in each of local mode's threads: the bound on its RSS.
import type { ResourceLimits } from "node:worker_threads";

/*
 * V8 sizes each isolate's young generation by allocation rate, up to 16 MiB per semi-space on
 * 64-bit (two semi-spaces and a new large-object space: 48 MiB). Local mode has two isolates (the
 * listener, which also writes the queues, and the pipeline), so a burst of load reserves near
 * 100 MiB of young generation that V8 gives back to the allocator but the process keeps: RSS rose
 * in steps with each burst (bench/README.md, "Memory over time"). Capping the semi-space makes that
 * part of RSS fixed; objects that outlive two scavenges are promoted to the old generation either
 * way, so the price is more frequent (and as short) scavenges, measured in the same section.
 */
export const SEMI_SPACE_MIB = 4;

/** The same cap as the main thread's `--max-semi-space-size` (package.json's start script), for Worker. */
export const YOUNG_GENERATION_MIB = 3 * SEMI_SPACE_MIB;

/** Resource limits of local mode's worker threads. */
export const workerResourceLimits: ResourceLimits = {
  maxYoungGenerationSizeMb: YOUNG_GENERATION_MIB,
};
