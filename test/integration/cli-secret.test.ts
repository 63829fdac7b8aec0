// `relay secret set|remove` on a local home: the value is stored encrypted under its name, read by the relay's secret store, and never printed.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import { runCli } from "#test/support/cli.ts";

let home: string;
const VALUE = "whsec-5up3r-s3cret";

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "relay-cli-secret-"));
});

afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

test("set stores the value for the relay to read, encrypted and never echoed; remove deletes it", async () => {
  const set = await runCli(["secret", "set", "--name", "webhooks/app", "--json"], {
    home,
    env: { RELAY_PASSWORD: VALUE },
  });
  expect(set.code, set.stderr).toBe(0);
  expect(JSON.parse(set.stdout)).toEqual({ name: "webhooks/app", set: true });
  expect(set.stdout + set.stderr).not.toContain(VALUE);
  const store = await LocalSecretStore.open(join(home, "secrets"));
  expect(await store.get("webhooks/app")).toBe(VALUE);
  // Nothing under the home holds the value in clear.
  const files = await readdir(home, { recursive: true, withFileTypes: true });
  for (const f of files.filter((e) => e.isFile()))
    expect(await readFile(join(f.parentPath, f.name), "utf8")).not.toContain(VALUE);

  const removed = await runCli(["secret", "remove", "--name", "webhooks/app"], { home });
  expect(removed.code, removed.stderr).toBe(0);
  await expect(
    (await LocalSecretStore.open(join(home, "secrets"))).get("webhooks/app"),
  ).rejects.toThrow();
  const again = await runCli(["secret", "remove", "--name", "webhooks/app"], { home });
  expect(again.code).toBe(3);
  expect(again.stderr).toContain('no secret "webhooks/app"');
}, 60_000);

test("a bad name or no value is refused with exit 2 and the reason", async () => {
  const bad = await runCli(["secret", "set", "--name", "/etc/passwd"], {
    home,
    env: { RELAY_PASSWORD: VALUE },
  });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--name: "/etc/passwd" is not a secret name');
  const empty = await runCli(["secret", "set", "--name", "webhooks/app"], { home });
  expect(empty.code).toBe(2);
  expect(empty.stderr).toContain("set RELAY_PASSWORD");
}, 60_000);
