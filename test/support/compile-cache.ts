// Node's compile cache for the test run: the many relay and CLI child processes the tests start
// (each a fresh Node compiling the same modules) reuse V8's code from the first one.
import { enableCompileCache } from "node:module";
import { join } from "node:path";

/**
 * Turns the cache on for this process and, through NODE_COMPILE_CACHE, for every process it
 * starts (vitest's workers, and the relay and `relay` CLI children they spawn with its
 * environment). Entries are checked against the source's hash, so an edited file is recompiled;
 * the directory is under node_modules, which `npm ci` starts afresh.
 */
export function useCompileCache(root: string): void {
  const dir = join(root, "node_modules", ".cache", "node-compile-cache");
  process.env.NODE_COMPILE_CACHE ??= dir;
  enableCompileCache(process.env.NODE_COMPILE_CACHE);
}
