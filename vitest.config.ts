// Test runner settings: integration tests bind real loopback sockets and start child processes, so
// they get generous timeouts (a test of many CLI children shares two cores with another file).
// The reliability suite (test/reliability) runs on its own: npm run test:reliability, from .ci/run.
import { configDefaults, defineConfig } from "vitest/config";
import { useCompileCache } from "./test/support/compile-cache.ts";

useCompileCache(import.meta.dirname);

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, "test/reliability/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two files at a time even on two cores (vitest's default is cores - 1, so one file at a
    // time there): most integration files spend their time waiting on sockets, child processes
    // and retry timers, which the other file's work fills. Files still run in their own process
    // (isolate stays on) and bind port 0, so they share nothing; larger files start first.
    maxWorkers: 2,
  },
});
