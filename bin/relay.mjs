#!/usr/bin/env node
// Launcher for the `relay` admin CLI: runs cli/main.ts on the project's pinned Node (see README,
// "Toolchain"), whichever Node started this file, and exits with the CLI's exit code.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pinned = join(root, "node_modules", "node", "bin", "node");
const node = existsSync(pinned) ? pinned : process.execPath;
const result = spawnSync(node, [join(root, "cli", "main.ts"), ...process.argv.slice(2)], {
  stdio: "inherit",
});
if (result.error) {
  console.error(`relay: could not start ${node}: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
