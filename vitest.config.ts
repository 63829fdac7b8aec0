// Test runner settings: integration tests bind real loopback sockets, so they get generous timeouts.
// The reliability suite (test/reliability) runs on its own: npm run test:reliability, from .ci/run.
import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, "test/reliability/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
