// Runner settings of the reliability suite (`npm run test:reliability`, called by .ci/run): one file at a time, since each loads the machine on purpose.
import { join } from "node:path";
import { defineConfig } from "vitest/config";
import { useCompileCache } from "../support/compile-cache.ts";

const root = join(import.meta.dirname, "..", "..");
useCompileCache(root);

export default defineConfig({
  root,
  test: {
    include: ["test/reliability/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
  },
});
