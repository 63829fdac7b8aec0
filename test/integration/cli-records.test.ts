// The CLI's record verbs run as a child process: exit codes, messages naming the flag, --json shapes.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { runCli } from "#test/support/cli.ts";

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "relay-cli-"));
});
const relay = (args: string[], env?: Record<string, string>) =>
  runCli(args, { home, ...(env ? { env } : {}) });

describe("relay send-connector", () => {
  test("new / get / set / remove, as in New-SendConnector -Name 'To Internet' -AddressSpaces *", async () => {
    const created = await relay([
      "send-connector",
      "new",
      "--name",
      "To Internet",
      "--address-spaces",
      "*;1",
      "--usage",
      "Internet",
    ]);
    expect(created).toMatchObject({ code: 0, stderr: "" });
    expect(created.stdout).toContain('Created SendConnector "To Internet".');

    const table = await relay(["send-connector", "get"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/Identity\s+AddressSpaces\s+Enabled\s+Routing/);
    expect(table.stdout).toMatch(/To Internet\s+smtp:\*;1\s+true\s+MX/);

    const set = await relay([
      "send-connector",
      "set",
      "--name",
      "to internet",
      "--smart-hosts",
      "smtp.contoso.com:587",
      "--json",
    ]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      ok: true,
      record: {
        name: "To Internet",
        dnsRoutingEnabled: false,
        smartHosts: ["smtp.contoso.com:587"],
      },
    });

    const one = await relay(["send-connector", "get", "--name", "To Internet", "--json"]);
    expect(JSON.parse(one.stdout)).toMatchObject({
      kind: "SendConnector",
      addressSpaces: [{ domain: "*", cost: 1 }],
    });

    expect((await relay(["send-connector", "remove", "--name", "To Internet"])).code).toBe(0);
    const gone = await relay(["send-connector", "remove", "--name", "To Internet"]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/SendConnector "To Internet" not found/);
  });

  test("an invalid address space is refused with exit 2, naming the flag, the field and the fix", async () => {
    const r = await relay([
      "send-connector",
      "new",
      "--name",
      "Bad",
      "--address-spaces",
      "*contoso.com;1",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--address-spaces \(addressSpaces\[0\]\.domain\): not a valid address space; use "\*", "contoso.com" or "\*.contoso.com"/,
    );
    expect((await relay(["send-connector", "get", "--json"])).stdout.trim()).toBe("[]");
  });

  test("an unknown flag is refused with exit 2", async () => {
    const r = await relay(["send-connector", "new", "--name", "X", "--adress-spaces", "*;1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option --adress-spaces/);
  });

  test("a password is never accepted as a flag value", async () => {
    const r = await relay([
      "send-connector",
      "new",
      "--name",
      "X",
      "--address-spaces",
      "*;1",
      "--password",
      "hunter2",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/passwords never go on the command line/);
  });

  test("smart host credentials go to the encrypted secret store, never into the record", async () => {
    const r = await relay(
      [
        "send-connector",
        "new",
        "--name",
        "Smarthost",
        "--address-spaces",
        "*;1",
        "--smart-hosts",
        "relay.example.net:587",
        "--require-tls",
        "--auth-user",
        "printer@contoso.com",
      ],
      { RELAY_PASSWORD: "Sm@rtHostPass" },
    );
    expect(r.code).toBe(0);
    const raw = await readFile(join(home, "records", "SendConnector", "smarthost.json"), "utf8");
    expect(raw).not.toContain("Sm@rtHostPass");
    expect(JSON.parse(raw)).toMatchObject({
      smartHostAuthMechanism: "BasicAuthRequireTls",
      smartHostAuthSecret: "send-connector/smarthost",
    });
  });
});

describe("relay receive-connector and accepted-domain", () => {
  test("--relay grants anonymous relay; overlapping ranges on one binding are refused", async () => {
    expect(
      (
        await relay([
          "receive-connector",
          "new",
          "--name",
          "Default",
          "--bindings",
          "0.0.0.0:25",
          "--remote-ip-ranges",
          "0.0.0.0/0",
        ])
      ).code,
    ).toBe(0);
    const relayConn = await relay([
      "receive-connector",
      "new",
      "--name",
      "Anon Relay",
      "--bindings",
      "0.0.0.0:25",
      "--remote-ip-ranges",
      "192.168.1.0/24",
      "--relay",
      "--json",
    ]);
    expect(relayConn.code).toBe(0);
    expect(JSON.parse(relayConn.stdout).record.grantedPermissions).toEqual([
      "AnonymousUsers:AcceptAnyRecipient",
    ]);

    const overlap = await relay([
      "receive-connector",
      "new",
      "--name",
      "Printers",
      "--bindings",
      "0.0.0.0:25",
      "--remote-ip-ranges",
      "192.168.1.128-192.168.2.10",
    ]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toMatch(
      /--remote-ip-ranges \(remoteIpRanges\): range 192.168.1.128-192.168.2.10 partly overlaps 192.168.1.0\/24 of "Anon Relay"/,
    );
  });

  test("a partner connector: Partners without --partner-domains is refused naming the field", async () => {
    const args = ["receive-connector", "new", "--name", "Fabrikam", "--bindings", "0.0.0.0:25"];
    const partners = ["--permission-groups", "AnonymousUsers,Partners"];
    const missing = await relay([...args, ...partners]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /Partners is granted only to a client certificate naming one of partnerDomains/,
    );
    const created = await relay([
      ...args,
      ...partners,
      ...["--partner-domains", "fabrikam.com,*.fabrikam.net"],
      ...["--tls-client-ca-bundle", "fabrikam-ca.pem", "--json"],
    ]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout).record).toMatchObject({
      partnerDomains: ["fabrikam.com", "*.fabrikam.net"],
      tlsClientCaBundle: "fabrikam-ca.pem",
    });
  });

  test("accepted domains: '*' is refused as an open relay; types are validated", async () => {
    expect((await relay(["accepted-domain", "new", "--domain", "contoso.com"])).code).toBe(0);
    const star = await relay(["accepted-domain", "new", "--domain", "*"]);
    expect(star.code).toBe(2);
    expect(star.stderr).toMatch(/open relay/);
    const badType = await relay([
      "accepted-domain",
      "new",
      "--domain",
      "fabrikam.com",
      "--type",
      "Internal",
    ]);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/--type \(domainType\)/);
    const list = await relay(["accepted-domain", "get", "--json"]);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ domain: "contoso.com" })]);
  });
});

describe("relay user and records validate", () => {
  test("a user's password is stored as an scrypt hash only", async () => {
    const r = await relay(
      ["user", "new", "--name", "scanner", "--allowed-senders", "scanner@contoso.com"],
      { RELAY_PASSWORD: "Scan-Pass-1" },
    );
    expect(r.code).toBe(0);
    const raw = await readFile(join(home, "records", "SmtpUser", "scanner.json"), "utf8");
    expect(raw).not.toContain("Scan-Pass-1");
    expect(JSON.parse(raw).passwordHash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    const noPassword = await relay(["user", "new", "--name", "other"]);
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/set RELAY_PASSWORD/);
  });

  test("records validate lists each problem with its key and field, exit 1", async () => {
    const { mkdir, writeFile } = await import("node:fs/promises");
    await mkdir(join(home, "records", "SendConnector"), { recursive: true });
    await writeFile(
      join(home, "records", "SendConnector", "x.json"),
      JSON.stringify({
        kind: "SendConnector",
        name: "X",
        addressSpaces: [{ domain: "*", cost: 1 }],
        smartHosts: ["a.example"],
      }),
    );
    const r = await relay(["records", "validate"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /SendConnector "X": smartHosts: smart hosts require dnsRoutingEnabled false/,
    );
  });
});
