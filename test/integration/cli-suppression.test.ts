// `relay suppression get|new|remove` against both back ends: RELAY_HOME's SQLite file beside the relay's
// own handle, and (--aws) the tracking table on dynalite that the deliver function reads.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DynamoSuppressionStore } from "#adapters/aws/dynamodb-suppression.ts";
import { LocalSuppressionStore } from "#adapters/local/suppression-store.ts";
import type { SuppressionEntry, SuppressionStore } from "#core/suppression/list.ts";
import { type AwsEmulators, endpointOf, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { runCli } from "#test/support/cli.ts";

let emu: AwsEmulators;
let home: string;
let awsEnv: Record<string, string>;

beforeAll(async () => {
  emu = await startAwsEmulators();
  await emu.createTrackingTable("cli-suppression-tracking");
  home = await mkdtemp(join(tmpdir(), "relay-cli-suppression-"));
  await mkdir(join(home, "records"), { recursive: true });
  awsEnv = {
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
    AWS_MAX_ATTEMPTS: "1",
    AWS_ENDPOINT_URL_DYNAMODB: await endpointOf(emu.dynamo),
    RELAY_TRACKING_TABLE: "cli-suppression-tracking",
  };
}, 30_000);

afterAll(async () => {
  await emu?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

const bounce: SuppressionEntry = {
  recipient: "gone@fabrikam.test",
  since: "2026-11-24T10:00:00.000Z",
  expiresAt: "2099-01-01T00:00:00.000Z",
  source: "bounce",
  reason: "550 5.1.1 User unknown",
  remoteHost: "mx1.fabrikam.test[192.0.2.25]",
  enhanced: "5.1.1",
};

const backends: [string, string[], () => Record<string, string>, () => SuppressionStore][] = [
  ["local", [], () => ({}), () => new LocalSuppressionStore(join(home, "suppression.db"))],
  [
    "--aws",
    ["--aws"],
    () => awsEnv,
    () => new DynamoSuppressionStore({ client: emu.dynamo, tableName: "cli-suppression-tracking" }),
  ],
];

describe.each(backends)("relay suppression (%s)", (_name, extra, env, relayStore) => {
  const relay = (args: string[]) =>
    runCli(["suppression", ...args, ...extra], { home, env: env() });

  test("get lists what a hard bounce put on the list; --json is the entries as stored", async () => {
    await relayStore().put(bounce);
    const table = await relay(["get"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/Recipient\s+Since\s+Until\s+Source\s+Reason/);
    expect(table.stdout).toContain("gone@fabrikam.test");
    const json = await relay(["get", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual([bounce]);
    const one = await relay(["get", "--recipient", "GONE@fabrikam.test", "--json"]);
    expect(JSON.parse(one.stdout)).toEqual(bounce);
  });

  test("new suppresses until removed; the relay's own handle sees it; remove lifts it", async () => {
    const added = await relay([
      "new",
      "--recipient",
      "Ann@Fabrikam.test",
      "--reason",
      "asked to stop",
      "--json",
    ]);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      ok: true,
      entry: { recipient: "ann@fabrikam.test", source: "admin", reason: "asked to stop" },
    });
    const seen = await relayStore().get("ann@fabrikam.test");
    expect(seen).toMatchObject({ source: "admin", reason: "asked to stop" });
    expect(seen?.expiresAt).toBeUndefined();

    const removed = await relay(["remove", "--recipient", "ann@fabrikam.test"]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain("ann@fabrikam.test is no longer suppressed");
    expect(await relayStore().get("ann@fabrikam.test")).toBeUndefined();
    const again = await relay(["remove", "--recipient", "ann@fabrikam.test"]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain("ann@fabrikam.test is not suppressed");
  });

  test.each([
    [
      ["new", "--recipient", "not-an-address", "--reason", "x"],
      /--recipient: "not-an-address" is not an email address \(no domain\)/,
    ],
    [
      ["remove", "--recipient", "a@b@fabrikam.test"],
      /--recipient: .* is not an email address \(more than one @\)/,
    ],
    [["new", "--recipient", "ann@fabrikam.test"], /--reason: required/],
    [["remove"], /--recipient: required/],
  ])("%j is refused with exit 2", async (args, message) => {
    const r = await relay(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
