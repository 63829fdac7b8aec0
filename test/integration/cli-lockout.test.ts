// `relay user get` shows a lockout and `relay user set --unlock` frees it, locally (beside a live listener) and with --aws.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { DynamoRateCounterStore } from "#adapters/aws/dynamodb-rate-counters.ts";
import { LocalRateCounterStore } from "#adapters/local/rate-counter-store.ts";
import type { RateCounterStore } from "#core/ports.ts";
import { authAttemptFailed, beginAuthAttempt } from "#core/receive/auth-lockout.ts";
import { DEFAULT_TRANSPORT_SETTINGS } from "#core/records/transport-settings.ts";
import { type AwsEmulators, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { runCli } from "#test/support/cli.ts";
import {
  acceptedDomain,
  connectClient,
  receiveConnector,
  startTestListener,
  type TestListener,
} from "#test/support/listener.ts";
import { plainToken } from "#test/support/smtp-client.ts";

const PASSWORD = "Scan-Pass-1";
/** Each test runs the CLI as a child process several times (the --aws ones load the SDK). */
const SLOW = 120_000;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function newHome() {
  const home = await mkdtemp(join(tmpdir(), "relay-cli-lockout-"));
  cleanup.push(() => rm(home, { recursive: true, force: true }));
  return home;
}

/** The default per-name threshold (20) of failed AUTH for a name, from different addresses. */
async function guessUntilLocked(counters: RateCounterStore, name: string) {
  for (let i = 1; i <= DEFAULT_TRANSPORT_SETTINGS.lockoutThresholdPerUser; i++) {
    const attempt = await beginAuthAttempt(
      counters,
      DEFAULT_TRANSPORT_SETTINGS,
      `192.0.2.${i}`,
      name,
    );
    await authAttemptFailed(counters, attempt);
  }
}

describe("local", () => {
  test(
    "a user locked over SMTP shows as locked; --unlock frees it and the right password works again",
    async () => {
      const home = await newHome();
      const relay = (args: string[]) => runCli(args, { home, env: { RELAY_PASSWORD: PASSWORD } });
      expect((await relay(["user", "new", "--name", "scanner"])).code).toBe(0);
      const user = JSON.parse(
        await readFile(join(home, "records", "SmtpUser", "scanner.json"), "utf8"),
      );
      // The listener keeps its counters where local mode does: RELAY_HOME/limits.db.
      const counters = new LocalRateCounterStore(join(home, "limits.db"));
      cleanup.push(() => counters.close());
      const t: TestListener = await startTestListener(
        [
          receiveConnector("Client", { bindings: ["127.0.0.1:587"], permissionGroups: ["Users"] }),
          acceptedDomain("contoso.com"),
          user,
          { kind: "TransportSettings", lockoutThresholdPerUser: 3 },
        ],
        {},
        { counters },
      );
      cleanup.push(() => t.stop());
      const { client } = await connectClient(t, { binding: "127.0.0.1:587" });
      cleanup.push(() => client.destroy());
      await client.command("EHLO app.example");
      await client.startTls(t.ca);
      await client.command("EHLO app.example");
      const auth = (password: string) =>
        client.command(`AUTH PLAIN ${plainToken("scanner", password)}`);
      for (let i = 0; i < 3; i++) expect((await auth("guess")).code).toBe(535);
      expect((await auth(PASSWORD)).code).toBe(454);

      const shown = await relay(["user", "get", "--name", "scanner", "--json"]);
      expect(shown.code).toBe(0);
      const locked = JSON.parse(shown.stdout);
      expect(locked).toMatchObject({ name: "scanner", lockout: { locked: true, failures: 3 } });
      expect(Date.parse(locked.lockout.lockedUntil)).toBeGreaterThan(Date.now() + 800_000);
      expect((await relay(["user", "get", "--name", "scanner"])).stdout).toMatch(
        /lockout\s+: \{"locked":true,"lockedUntil":"[^"]+","failures":3\}/,
      );

      const freed = await relay(["user", "set", "--name", "scanner", "--unlock"]);
      expect(freed).toMatchObject({ code: 0, stderr: "" });
      const after = JSON.parse(
        (await relay(["user", "get", "--name", "scanner", "--json"])).stdout,
      );
      expect(after.lockout).toEqual({ locked: false, failures: 0 });
      expect((await auth(PASSWORD)).code).toBe(235);
    },
    SLOW,
  );

  test(
    "rate-limit flags: set, cleared with Unlimited, and a bad source named",
    async () => {
      const home = await newHome();
      const relay = (args: string[]) => runCli(args, { home, env: { RELAY_PASSWORD: PASSWORD } });
      expect(
        (await relay(["user", "new", "--name", "bulk", "--recipient-rate-limit", "500"])).code,
      ).toBe(0);
      const raw = () => readFile(join(home, "records", "SmtpUser", "bulk.json"), "utf8");
      expect(JSON.parse(await raw()).recipientRateLimit).toBe(500);
      await relay(["user", "set", "--name", "bulk", "--recipient-rate-limit", "Unlimited"]);
      expect(JSON.parse(await raw())).not.toHaveProperty("recipientRateLimit");

      const args = ["receive-connector", "new", "--name", "Client", "--bindings", "0.0.0.0:587"];
      const made = await relay([
        ...args,
        "--message-rate-limit",
        "5",
        "--message-rate-source",
        "User",
      ]);
      expect(made.code).toBe(0);
      const rc = JSON.parse(
        await readFile(join(home, "records", "ReceiveConnector", "client.json"), "utf8"),
      );
      expect(rc).toMatchObject({ messageRateLimit: 5, messageRateSource: "User" });
      const bad = await relay([
        "receive-connector",
        "set",
        "--name",
        "Client",
        "--message-rate-source",
        "Sender",
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--message-rate-source \(messageRateSource\)/);
    },
    SLOW,
  );
});

describe("--aws", () => {
  let emu: AwsEmulators | undefined;
  afterAll(async () => {
    await emu?.stop();
  });

  test(
    "user get shows the lockout from the limits table; --unlock deletes it",
    async () => {
      emu = await startAwsEmulators();
      await emu.createRecordTable("records");
      await emu.createLimitsTable("limits");
      const home = await newHome();
      const { endpoint } = emu.dynamo.config;
      const ep = (await endpoint?.()) as { protocol: string; hostname: string; port: number };
      const env = {
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_REGION: "us-east-1",
        AWS_MAX_ATTEMPTS: "1",
        AWS_ENDPOINT_URL_DYNAMODB: `${ep.protocol}//${ep.hostname}:${ep.port}`,
        RELAY_RECORD_TABLE: "records",
        RELAY_PASSWORD: PASSWORD,
      };
      const relay = (args: string[], extra: Record<string, string> = {}) =>
        runCli([...args, "--aws"], { home, env: { ...env, ...extra } });
      expect((await relay(["user", "new", "--name", "scanner"])).code).toBe(0);
      const noTable = await relay(["user", "get", "--name", "scanner"]);
      expect(noTable.code).toBe(2);
      expect(noTable.stderr).toMatch(/--limits-table \(or RELAY_LIMITS_TABLE/);

      const counters = new DynamoRateCounterStore({ client: emu.dynamo, tableName: "limits" });
      await guessUntilLocked(counters, "Scanner");
      const shown = await relay([
        "user",
        "get",
        "--name",
        "scanner",
        "--json",
        "--limits-table",
        "limits",
      ]);
      expect(JSON.parse(shown.stdout).lockout).toMatchObject({ locked: true, failures: 20 });
      const freed = await relay(["user", "set", "--name", "scanner", "--unlock"], {
        RELAY_LIMITS_TABLE: "limits",
      });
      expect(freed).toMatchObject({ code: 0, stderr: "" });
      expect(await counters.get("lock:user:scanner")).toBeUndefined();
    },
    SLOW,
  );
});
