// DKIM end to end in local mode: the CLI beside a running relay makes the key, the loopback DNS server serves the printed record, mailauth verifies what the sink received.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import { type CliRelay, startCliRelay, submit, waitFor } from "#test/support/cli-relay.ts";
import { dkimSignatures, type PrintedDnsRecord, publish, verifyDkim } from "#test/support/dkim.ts";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";
import { smartHostConnector } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

interface ConfigView {
  domain: string;
  selector: string;
  enabled: boolean;
  keyType: string;
  dnsRecords: (PrintedDnsRecord & { status: string })[];
}

let r: CliRelay;
let sink: Sink;
let dns: TestDnsServer;
/** The relay re-reads its records every 2 s: a CLI change is in force after that. */
const recordsReloaded = () => new Promise((resolve) => setTimeout(resolve, 2500));

beforeAll(async () => {
  sink = await startSink();
  dns = await startDnsServer();
  r = await startCliRelay([
    smartHostConnector(`127.0.0.1:${sink.port}`),
    {
      kind: "TransportSettings",
      name: "default",
      retrySchedule: [{ intervalSeconds: 1, count: 100 }],
      postmaster: "postmaster@contoso.com",
    },
  ]);
}, 30_000);
afterAll(async () => {
  await r?.stop();
  await sink?.close();
  await dns?.close();
});

const received = (subject: string) =>
  sink.received.find((m) => m.raw.toString("utf8").includes(`Subject: ${subject}`));

describe("relay dkim-signing-config in local mode", () => {
  test("new prints the record; a message that was deferred once arrives signed and verifies", async () => {
    const created = await r.json<{ config: ConfigView }>([
      "dkim-signing-config",
      "new",
      "--domain",
      "contoso.com",
    ]);
    expect(created.config).toMatchObject({ domain: "contoso.com", enabled: true, keyType: "rsa" });
    const [record] = created.config.dnsRecords;
    expect(record).toMatchObject({
      name: `${created.config.selector}._domainkey.contoso.com`,
      type: "TXT",
    });
    expect(record?.value).toMatch(/^"v=DKIM1; k=rsa; p=[^"]{237}" "[^"]+"$/);
    publish(dns, created.config.dnsRecords);
    const listed = await r.json<ConfigView[]>(["dkim-signing-config", "get"]);
    expect(listed.map((c) => [c.domain, c.selector, c.enabled, c.keyType])).toEqual([
      ["contoso.com", created.config.selector, true, "rsa"],
    ]);
    await recordsReloaded();

    sink.script = { data: "451 4.3.0 Try again later" };
    const connectionsBefore = sink.connections;
    await submit(r.port, "app@contoso.com", ["user@example.net"], "Retried invoice");
    await waitFor("the first attempt", () => sink.connections > connectionsBefore);
    sink.script = {};
    await waitFor("the retry", () => received("Retried invoice") !== undefined);
    const raw = received("Retried invoice")?.raw ?? Buffer.alloc(0);
    expect(dkimSignatures(raw)).toHaveLength(1);
    expect(await verifyDkim(raw, dns)).toEqual([
      expect.objectContaining({
        domain: "contoso.com",
        selector: created.config.selector,
        result: "pass",
      }),
    ]);
  }, 60_000);

  test("an NDR is signed with the postmaster's domain key", async () => {
    sink.script = { rcpt: { "gone@example.net": "550 5.1.1 User unknown" } };
    await submit(r.port, "app@tailspin.com", ["gone@example.net"], "To nobody");
    await waitFor("the NDR", () =>
      sink.received.some((m) => m.rcptTo.includes("app@tailspin.com")),
    );
    sink.script = {};
    const ndr = sink.received.find((m) => m.rcptTo.includes("app@tailspin.com"));
    expect(ndr?.mailFrom).toBe("");
    expect(ndr?.raw.toString("utf8")).toMatch(/^From: .*postmaster@contoso\.com/m);
    expect(await verifyDkim(ndr?.raw ?? Buffer.alloc(0), dns)).toEqual([
      expect.objectContaining({ domain: "contoso.com", result: "pass" }),
    ]);
  }, 60_000);

  test("a broken key never blocks mail: delivered unsigned, the failure logged", async () => {
    const made = await r.json<{ config: ConfigView & { keys: { secretName: string }[] } }>([
      "dkim-signing-config",
      "new",
      "--domain",
      "fabrikam.com",
    ]);
    const secrets = await LocalSecretStore.open(`${r.home}/secrets`);
    await secrets.set(made.config.keys[0]?.secretName ?? "", "not a PEM key");
    await recordsReloaded();
    await submit(r.port, "app@fabrikam.com", ["user@example.net"], "Broken key");
    await waitFor("the unsigned message", () => received("Broken key") !== undefined);
    expect(dkimSignatures(received("Broken key")?.raw ?? Buffer.alloc(0))).toEqual([]);
    // The pipeline logs JSON lines on stderr: the admin's detail, what LastError is to delivery.
    const warning = () =>
      r.relay
        .stderr()
        .split("\n")
        .find((l) => l.includes("DKIM signing failed"));
    await waitFor("the log line", () => warning() !== undefined);
    expect(JSON.parse(warning() ?? "{}")).toMatchObject({
      level: "WARN",
      domain: "fabrikam.com",
      outcome: "sent unsigned",
    });
  }, 60_000);

  test("rotate: the new selector signs, the old record stays listed until removed", async () => {
    const before = await r.json<ConfigView[]>([
      "dkim-signing-config",
      "get",
      "--domain",
      "contoso.com",
    ]);
    const old = before[0]?.selector ?? "";
    const rotated = await r.json<{ config: ConfigView }>([
      "dkim-signing-config",
      "rotate",
      "--domain",
      "contoso.com",
    ]);
    expect(rotated.config.selector).not.toBe(old);
    expect(rotated.config.dnsRecords.map((d) => [d.name.split(".")[0], d.status])).toEqual([
      [rotated.config.selector, "signing"],
      [old, "retired"],
    ]);
    publish(dns, rotated.config.dnsRecords);
    await recordsReloaded();
    await submit(r.port, "app@contoso.com", ["user@example.net"], "After rotation");
    await waitFor("the message", () => received("After rotation") !== undefined);
    expect(await verifyDkim(received("After rotation")?.raw ?? Buffer.alloc(0), dns)).toEqual([
      expect.objectContaining({ selector: rotated.config.selector, result: "pass" }),
    ]);
    const removed = await r.cli([
      "dkim-signing-config",
      "remove",
      "--domain",
      "contoso.com",
      "--selector",
      old,
    ]);
    expect(removed.code).toBe(0);
    const after = await r.json<ConfigView[]>([
      "dkim-signing-config",
      "get",
      "--domain",
      "contoso.com",
    ]);
    expect(after[0]?.dnsRecords.map((d) => d.status)).toEqual(["signing"]);
    const disabled = await r.cli([
      "dkim-signing-config",
      "set",
      "--domain",
      "contoso.com",
      "--enabled",
      "false",
    ]);
    expect(disabled.code).toBe(0);
    const bad = await r.cli(["dkim-signing-config", "new", "--domain", "contoso.com"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/already exists/);
  }, 60_000);
});
