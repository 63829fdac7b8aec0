// The CLI as admins expect it, as a child process: per-verb --help, --version, bash/zsh completion in a real bash, RELAY_HOME typos, transport-config.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import { runCli } from "#test/support/cli.ts";

const run = promisify(execFile);
let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "relay-cli-help-"));
});
const relay = (args: string[], env?: Record<string, string>) =>
  runCli(args, { home, ...(env ? { env } : {}) });

describe("--help and --version", () => {
  test("relay <noun> <verb> --help lists that verb's flags with types, defaults and an example", async () => {
    const r = await relay(["receive-connector", "new", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^relay receive-connector new \[flags\]: create a ReceiveConnector/);
    expect(r.stdout).toMatch(/--bindings list of text\s+required/);
    expect(r.stdout).toMatch(/--max-message-size size\s+default 36MB/);
    expect(r.stdout).toMatch(/--\[no-\]require-tls\s+default false/);
    expect(r.stdout).toMatch(/--protocol-logging None\|Verbose\s+default None/);
    expect(r.stdout).toMatch(/--relay\s+let anonymous clients relay/);
    expect(r.stdout).toMatch(/Example:\n {2}relay receive-connector new --name "Anon Relay"/);

    const plain = await relay(["doctor", "--help"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/--egress-ip list of ip/);
    const noun = await relay(["queue", "--help"]);
    expect(noun.stdout).toMatch(/relay queue get\s+list the queues/);
    const top = await relay(["--help"]);
    expect(top.stdout).toMatch(/relay transport-config\s+get\|set/);
    expect(top.stdout).toMatch(/--stack name/);
  }, 60_000);

  test("an unknown verb exits 2 with the verbs to use; --version prints the package version", async () => {
    const bad = await relay(["transport-config", "show"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/relay transport-config: unknown verb "show"; use get, set/);
    const v = await relay(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^relay 0\.\d+\.\d+ \(connector-relay, Node 24\./);
  }, 60_000);

  test("the launcher runs the CLI on the pinned Node whichever Node starts it", async () => {
    const root = join(import.meta.dirname, "..", "..");
    const pinned = join(root, "node_modules", ".bin", "node");
    // The first `node` on PATH outside the project (an admin's own, often older); the test's own
    // Node where there is none.
    const dirs = (process.env.PATH ?? "")
      .split(":")
      .filter((d) => d && !d.includes("node_modules"));
    const other = dirs.map((d) => join(d, "node")).find((n) => existsSync(n)) ?? process.execPath;
    const expected = (await run(pinned, ["--version"])).stdout.trim().slice(1);
    const v = await run(other, [join(root, "bin", "relay.mjs"), "--version"], {
      env: { ...process.env, RELAY_HOME: home },
    });
    expect(v.stdout).toContain(`Node ${expected})`);
  }, 60_000);
});

describe("shell completion", () => {
  let script: string;
  beforeAll(async () => {
    const r = await relay(["completion", "bash"]);
    expect(r.code).toBe(0);
    script = join(home, "relay.bash");
    await writeFile(script, r.stdout);
  });

  /** COMPREPLY of the completion function in a real bash for the words typed so far. */
  async function complete(words: string[]): Promise<string[]> {
    const quoted = words.map((w) => `'${w}'`).join(" ");
    const { stdout } = await run("bash", [
      "-c",
      `source "$1"; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _relay; printf '%s\\n' "\${COMPREPLY[@]}"`,
      "bash",
      script,
    ]);
    return stdout.split("\n").filter((l) => l !== "");
  }

  test("the bash script is valid and completes nouns, verbs, flags and enum values", async () => {
    await run("bash", ["-n", script]);
    expect(await complete(["relay", "send-c"])).toEqual(["send-connector"]);
    expect(await complete(["relay", "send-connector", "s"])).toEqual(["set"]);
    expect(await complete(["relay", "send-connector", "new", "--address-sp"])).toEqual([
      "--address-spaces",
    ]);
    expect(await complete(["relay", "send-connector", "new", "--usage", "Int"])).toEqual([
      "Internal",
      "Internet",
    ]);
    // Free text after a flag that takes a value: no flags offered in its place.
    expect(await complete(["relay", "send-connector", "new", "--name", ""])).toEqual([]);
    expect(await complete(["relay", "doctor", "--eg"])).toEqual(["--egress-ip"]);
    expect(await complete(["relay", "transport-config", "set", "--egress"])).toEqual([
      "--egress-ips",
    ]);
    expect(await complete(["relay", "queue", "get", "--st"])).toEqual(["--stack"]);
  }, 60_000);

  test("the zsh script is a #compdef function over the same table", async () => {
    const r = await relay(["completion", "zsh"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^#compdef relay\n/);
    expect(r.stdout).toContain(
      '"send-connector new") flags=(--name --enabled --usage --address-spaces',
    );
    expect(r.stdout).toContain(
      '"send-connector new --usage") compadd -- Internal Internet Partner Custom',
    );
    expect(r.stdout).toContain("compdef _relay relay");
  }, 60_000);
});

describe("RELAY_HOME and transport-config", () => {
  test("a RELAY_HOME that does not exist is refused, not created, unless the verb creates records", async () => {
    const typo = join(home, "relya");
    const r = await relay(["send-connector", "get"], { RELAY_HOME: typo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/RELAY_HOME: ".*relya" does not exist/);
    expect(r.stdout).not.toContain("(none)");
    expect(existsSync(typo)).toBe(false);
    const flag = await relay(["queue", "get", "--home", typo]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--home: ".*relya" does not exist/);
    expect(existsSync(typo)).toBe(false);
    const created = await relay([
      "accepted-domain",
      "new",
      "--domain",
      "contoso.com",
      "--home",
      typo,
    ]);
    expect(created.code).toBe(0);
    expect(existsSync(typo)).toBe(true);
  }, 60_000);

  test("transport-config set changes only the flags given; get shows the effective settings", async () => {
    const set = await relay([
      "transport-config",
      "set",
      "--message-expiration-timeout-seconds",
      "1d",
      "--retry-schedule",
      "1mx2,10m",
      "--json",
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).record).toMatchObject({
      messageExpirationTimeoutSeconds: 86_400,
      retrySchedule: [
        { intervalSeconds: 60, count: 2 },
        { intervalSeconds: 600, count: 1 },
      ],
    });
    await relay(["transport-config", "set", "--host-name", "relay.contoso.com"]);
    const get = await relay(["transport-config", "get", "--json"]);
    expect(JSON.parse(get.stdout)).toMatchObject({
      kind: "TransportSettings",
      hostName: "relay.contoso.com",
      messageExpirationTimeoutSeconds: 86_400,
      delayNotificationTimeoutSeconds: 14_400,
    });
  }, 60_000);

  test("bad input to transport-config exits 2 naming the flag and the field", async () => {
    const ip = await relay(["transport-config", "set", "--egress-ips", "relay.contoso.com"]);
    expect(ip.code).toBe(2);
    expect(ip.stderr).toMatch(/--egress-ips \(egressIps\[0\]\): not an IP address/);
    const zero = await relay([
      "transport-config",
      "set",
      "--message-expiration-timeout-seconds",
      "0",
    ]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(
      /--message-expiration-timeout-seconds \(messageExpirationTimeoutSeconds\)/,
    );
    const nothing = await relay(["transport-config", "set"]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/nothing to change/);
  }, 60_000);
});
