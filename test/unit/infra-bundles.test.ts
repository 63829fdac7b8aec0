// The function bundles a real synth produces (local esbuild, no Docker): each under 1 MB, and each loads and answers an SQS batch.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { synthRelay } from "./infra-app.ts";

const MB = 1024 * 1024;
const root = join(import.meta.dirname, "..", "..");

describe("function bundles", () => {
  let bundles: Array<{ name: string; file: string }> = [];
  beforeAll(() => {
    const { template, outdir } = synthRelay({ bundle: true });
    bundles = Object.entries(template.findResources("AWS::Lambda::Function"))
      .filter(([id]) => /^(Route|Deliver)/.test(id))
      .map(([id, fn]) => ({
        name: id.startsWith("Route") ? "route" : "deliver",
        file: join(
          outdir,
          `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, "")}`,
          "index.mjs",
        ),
      }));
    // Two esbuild runs plus a full synth: ~40 s on a busy shared machine, beyond the default hook timeout.
  }, 120_000);

  test("synth bundled both functions as ESM files: deliver under 1 MB, route (which signs DKIM) under 2 MB", () => {
    expect(bundles.map((b) => b.name).sort()).toEqual(["deliver", "route"]);
    for (const b of bundles) {
      const size = statSync(b.file).size;
      expect(size, b.name).toBeGreaterThan(10_000);
      // mailauth's signer brings libmime's charset tables (iconv-lite, encoding-japanese): about
      // 0.7 MB that only route carries.
      expect(size, b.name).toBeLessThan(b.name === "route" ? 2 * MB : MB);
    }
  });

  test.each(["route", "deliver"])(
    "the %s bundle loads on Node 24 and reports a bad record as a batch item failure",
    (name) => {
      const bundle = bundles.find((b) => b.name === name)!;
      // Placed inside the repository so the AWS SDK (external, provided by the Lambda runtime) resolves from node_modules.
      const dir = join(root, "node_modules", ".cache", "relay-bundle-check", name);
      mkdirSync(dir, { recursive: true });
      copyFileSync(bundle.file, join(dir, "index.mjs"));
      const script = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(join(dir, "index.mjs")).href)});
      const record = { messageId: "m-1", receiptHandle: "h", body: "not json", attributes: { ApproximateReceiveCount: "1" },
        messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:us-east-1:111111111111:q", awsRegion: "us-east-1" };
      const res = await handler({ Records: [record] }, { functionName: "${name}", awsRequestId: "r1", getRemainingTimeInMillis: () => 30000 });
      process.stderr.write("RESULT " + JSON.stringify(res) + "\\n");
    `;
      const env = {
        PATH: process.env.PATH ?? "",
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        [RELAY_ENV.submissionQueueUrl]: "http://127.0.0.1:9/000000000000/submission",
        [RELAY_ENV.deliveryQueueUrl]: "http://127.0.0.1:9/000000000000/delivery",
        [RELAY_ENV.bodyBucket]: "bodies",
        [RELAY_ENV.recordTable]: "records",
        [RELAY_ENV.trackingTable]: "tracking",
      };
      const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        env,
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(run.stderr).toContain(
        `RESULT ${JSON.stringify({ batchItemFailures: [{ itemIdentifier: "m-1" }] })}`,
      );
      expect(run.status).toBe(0);
    },
  );
});
