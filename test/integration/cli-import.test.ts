// `relay import exchange` as an admin runs it, locally and with --aws against the emulators: dry run, --apply, conflicts, --replace, bad files.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DynamoRecordStore } from "#adapters/aws/dynamodb-records.ts";
import { type AwsEmulators, endpointOf, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { runCli } from "#test/support/cli.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "exchange");
const ALL = [
  "--send-connectors",
  join(FIXTURES, "send-connectors.json"),
  "--receive-connectors",
  join(FIXTURES, "receive-connectors.json"),
  "--accepted-domains",
  join(FIXTURES, "accepted-domains.json"),
  "--transport-config",
  join(FIXTURES, "transport-config.json"),
];

interface ImportJson {
  ok: boolean;
  applied: boolean;
  written: number;
  counts: Record<string, number>;
  items: {
    action: string;
    kind: string;
    id: string;
    reason: string;
    fields?: string[];
    notes: unknown[];
  }[];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "relay-import-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const action = (r: ImportJson, id: string) => r.items.find((i) => i.id === id)?.action;

describe("local", () => {
  test("a dry run writes nothing; --apply writes records the relay accepts; a second run changes nothing", async () => {
    const home = join(dir, "fresh");
    const dry = await runCli(["import", "exchange", ...ALL], { home });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^skip +ReceiveConnector +Default EX01 .*HubTransport/m);
    expect(dry.stdout).toMatch(/^create +SendConnector +To Internet/m);
    expect(dry.stdout).toMatch(/Dry run: nothing was written/);
    const none = await runCli(["send-connector", "get", "--json"], { home });
    expect(JSON.parse(none.stdout)).toEqual([]);

    const applied = await runCli(["import", "exchange", ...ALL, "--apply", "--json"], { home });
    expect(applied.code, applied.stderr).toBe(0);
    const report = JSON.parse(applied.stdout) as ImportJson;
    expect(report).toMatchObject({ ok: true, applied: true, written: 11 });
    expect(report.counts).toMatchObject({ create: 11, skip: 4, conflict: 0, invalid: 0 });

    const validate = await runCli(["records", "validate", "--json"], { home });
    expect(JSON.parse(validate.stdout)).toMatchObject({
      ok: true,
      valid: { sendConnectors: 3, receiveConnectors: 4, acceptedDomains: 3 },
    });
    const internet = await runCli(["send-connector", "get", "--name", "To Internet", "--json"], {
      home,
    });
    expect(JSON.parse(internet.stdout)).toMatchObject({
      externalDnsServers: ["10.0.0.53", "10.0.1.53"],
      maxMessageSize: 36_700_160,
    });
    const settings = await runCli(["transport-config", "get", "--json"], { home });
    expect(JSON.parse(settings.stdout)).toMatchObject({ messageExpirationTimeoutSeconds: 86_400 });

    const again = JSON.parse(
      (await runCli(["import", "exchange", ...ALL, "--apply", "--json"], { home })).stdout,
    ) as ImportJson;
    expect(again).toMatchObject({ ok: true, written: 0 });
    expect(again.counts).toMatchObject({ unchanged: 11, create: 0 });
  }, 120_000);

  test("a stored record that differs is a conflict, never overwritten without --replace", async () => {
    const home = join(dir, "conflict");
    const domains = join(FIXTURES, "accepted-domains.json");
    const made = await runCli(
      ["accepted-domain", "new", "--domain", "fabrikam.com", "--type", "Authoritative"],
      { home },
    );
    expect(made.code, made.stderr).toBe(0);
    const conflict = await runCli(
      ["import", "exchange", "--accepted-domains", domains, "--apply"],
      { home },
    );
    expect(conflict.code).toBe(1);
    expect(conflict.stdout).toMatch(
      /^conflict +AcceptedDomain +fabrikam\.com .*differs in .*domainType/m,
    );
    const kept = await runCli(["accepted-domain", "get", "--domain", "fabrikam.com", "--json"], {
      home,
    });
    expect(JSON.parse(kept.stdout)).toMatchObject({ domainType: "Authoritative" });

    const replaced = await runCli(
      ["import", "exchange", "--accepted-domains", domains, "--apply", "--replace", "--json"],
      { home },
    );
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(action(JSON.parse(replaced.stdout), "fabrikam.com")).toBe("change");
    const now = await runCli(["accepted-domain", "get", "--domain", "fabrikam.com", "--json"], {
      home,
    });
    expect(JSON.parse(now.stdout)).toMatchObject({ domainType: "InternalRelay" });
  }, 60_000);

  test("the relay's cross-record rules refuse an imported connector that clashes with a stored one", async () => {
    const home = join(dir, "clash");
    const made = await runCli(
      [
        "receive-connector",
        "new",
        "--name",
        "Printers",
        "--bindings",
        "0.0.0.0:25",
        "--remote-ip-ranges",
        "192.168.5.10",
      ],
      { home },
    );
    expect(made.code, made.stderr).toBe(0);
    const r = await runCli(
      [
        "import",
        "exchange",
        "--receive-connectors",
        join(FIXTURES, "receive-connectors.json"),
        "--apply",
        "--json",
      ],
      { home },
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as ImportJson;
    const relay = report.items.find((i) => i.id === "Anonymous Relay");
    expect(relay).toMatchObject({ action: "invalid" });
    expect(relay?.reason).toMatch(/range 192\.168\.5\.10 is also on "Printers"/);
    expect(action(report, "Client Frontend EX01")).toBe("create");
    const listed = JSON.parse(
      (await runCli(["receive-connector", "get", "--json"], { home })).stdout,
    ) as unknown[];
    expect(listed).toHaveLength(4);
  }, 60_000);

  test("bad, truncated and missing files are exit 2 naming the file and position", async () => {
    const home = join(dir, "bad");
    const truncated = join(dir, "truncated.json");
    const text = await readFile(join(FIXTURES, "send-connectors.json"), "utf8");
    await writeFile(truncated, text.slice(0, 200));
    const r = await runCli(["import", "exchange", "--send-connectors", truncated], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/truncated\.json:\d+:\d+: not valid JSON: the JSON ends early/);
    const broken = join(dir, "broken.json");
    await writeFile(broken, '[\n  { "Name": "x" }\n  { "Name": "y" }\n]\n');
    const b = await runCli(["import", "exchange", "--send-connectors", broken], { home });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/broken\.json:3:3: not valid JSON/);
    const missing = await runCli(
      ["import", "exchange", "--send-connectors", join(dir, "nope.json")],
      { home },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: cannot read it \(ENOENT\)/);
    const nothing = await runCli(["import", "exchange"], { home });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/name at least one export/);
  }, 60_000);

  test("Windows PowerShell's UTF-16 output is read", async () => {
    const home = join(dir, "utf16");
    const file = join(dir, "domains-utf16.json");
    const text = await readFile(join(FIXTURES, "accepted-domains.json"), "utf8");
    await writeFile(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
    const r = await runCli(["import", "exchange", "--accepted-domains", file, "--json"], { home });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as ImportJson).counts.create).toBe(3);
  });
});

describe("--aws", () => {
  let emu: AwsEmulators;
  beforeAll(async () => {
    emu = await startAwsEmulators();
    await emu.createRecordTable("import-records");
  }, 30_000);
  afterAll(async () => {
    await emu?.stop();
  });

  test("--apply writes the DynamoDB record table; a conflict there is reported too", async () => {
    const env = {
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
      AWS_MAX_ATTEMPTS: "1",
      AWS_ENDPOINT_URL_DYNAMODB: await endpointOf(emu.dynamo),
      RELAY_RECORD_TABLE: "import-records",
    };
    const home = join(dir, "aws");
    const r = await runCli(["import", "exchange", ...ALL, "--apply", "--aws", "--json"], {
      home,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ applied: true, written: 11 });
    const store = new DynamoRecordStore({ client: emu.dynamo, tableName: "import-records" });
    expect(await store.get("ReceiveConnector", "Anonymous Relay")).toMatchObject({
      grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
    });
    await store.put({ kind: "AcceptedDomain", domain: "contoso.com", domainType: "ExternalRelay" });
    const again = await runCli(["import", "exchange", ...ALL, "--aws", "--json"], { home, env });
    expect(again.code).toBe(1);
    expect(action(JSON.parse(again.stdout), "contoso.com")).toBe("conflict");
  }, 60_000);
});
