// Lambda bundles: esbuild each function's entry as the stack does, report bytes, and time a cold import in a fresh Node.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { type Spread, spread } from "./stats.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");

export interface BundleFigures {
  entry: string;
  bytes: number;
  /** gzip -9 of the bundle: close to what the deployment zip adds. */
  gzipBytes: number;
  /** `await import(bundle)` in a fresh process: module evaluation and client construction (ms). */
  coldImportMs: Spread;
  /** Fresh `node` process start to exit around that import (ms). */
  processMs: Spread;
  /** Set when the bundle could not be imported; the figures above are then NaN. */
  importError?: string;
}

/*
 * Mirrors BUNDLING in infra/constructs/functions.ts: one minified ESM file for node24 with a
 * `require` for CommonJS dependencies, the AWS SDK left to the nodejs24.x runtime. The bundles
 * land in the results directory, where `@aws-sdk/*` still resolves from the repository's
 * node_modules, as it does from the runtime in Lambda.
 */
async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    minify: true,
    mainFields: ["module", "main"],
    banner: {
      js: "import { createRequire as __relayCreateRequire } from 'node:module'; const require = __relayCreateRequire(import.meta.url);",
    },
    external: ["@aws-sdk/*", "@smithy/*"],
    logLevel: "error",
  });
}

/** What the stack sets on the functions, with placeholder values: enough to build the adapters. */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: "eu-west-1",
  AWS_LAMBDA_FUNCTION_NAME: "bench",
  RELAY_SUBMISSION_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/000000000000/submission",
  RELAY_DELIVERY_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/000000000000/delivery",
  RELAY_BODY_BUCKET: "bench-bodies",
  RELAY_RECORD_TABLE: "bench-records",
  RELAY_TRACKING_TABLE: "bench-tracking",
  RELAY_SECRET_PREFIX: "connector-relay/",
};

const IMPORT_SCRIPT = `const t0 = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - t0));`;

async function coldImport(file: string): Promise<{ importMs: number; processMs: number }> {
  const t0 = performance.now();
  const { stdout } = await run(
    process.execPath,
    ["--input-type=module", "-e", IMPORT_SCRIPT, pathToFileURL(file).href],
    { env: { ...process.env, ...LAMBDA_ENV }, cwd: ROOT },
  );
  return { importMs: Number(stdout), processMs: performance.now() - t0 };
}

/** The Lambda entry (`lambda.ts`) where it exists, else the handler factory module. */
export function entryOf(fn: "route" | "deliver"): string {
  const lambda = `functions/${fn}/lambda.ts`;
  return existsSync(join(ROOT, lambda)) ? lambda : `functions/${fn}/handler.ts`;
}

export async function measureBundle(
  fn: "route" | "deliver",
  outDir: string,
  imports = 5,
): Promise<BundleFigures> {
  await mkdir(outDir, { recursive: true });
  const entry = entryOf(fn);
  const outfile = join(outDir, `${fn}.mjs`);
  await bundle(entry, outfile);
  const bytes = await readFile(outfile);
  const importMs: number[] = [];
  const processMs: number[] = [];
  let importError: string | undefined;
  for (let i = 0; i < imports && !importError; i++) {
    try {
      const r = await coldImport(outfile);
      importMs.push(r.importMs);
      processMs.push(r.processMs);
    } catch (error) {
      importError = ((error as { stderr?: string }).stderr || String(error)).slice(0, 500);
    }
  }
  return {
    entry: relative(ROOT, join(ROOT, entry)),
    bytes: bytes.byteLength,
    gzipBytes: gzipSync(bytes, { level: 9 }).byteLength,
    coldImportMs: spread(importMs),
    processMs: spread(processMs),
    ...(importError ? { importError } : {}),
  };
}
