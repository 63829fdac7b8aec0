// `relay doctor`'s DKIM check as a child process: keys made by `relay dkim-signing-config new`, records served by a loopback DNS server.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import { relayHome } from "#local/home.ts";
import { runCli } from "#test/support/cli.ts";
import { type PrintedDnsRecord, publish } from "#test/support/dkim.ts";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";

interface Finding {
  check: string;
  subject: string;
  status: "OK" | "WARN" | "FAIL";
  detail: string;
  fix?: string;
}
interface Created {
  config: { selector: string; dnsRecords: PrintedDnsRecord[]; keys: { secretName: string }[] };
}

let dns: TestDnsServer;
const homes: string[] = [];

beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(async () => {
  await dns?.close();
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

/** Served so the SPF check only WARNs (egress IPs unknown): the exit code is then DKIM's alone. */
const withSpf = (domain: string) => dns.set(domain, { TXT: ["v=spf1 -all"] });

async function cli(home: string, args: string[]) {
  const r = await runCli(args, { home });
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return r.stdout;
}

/** A RELAY_HOME with `domain` accepted and a DKIM key made for it by the CLI. */
async function homeWithKey(domain: string) {
  const home = await mkdtemp(join(tmpdir(), "relay-doctor-dkim-"));
  homes.push(home);
  withSpf(domain);
  await cli(home, ["accepted-domain", "new", "--domain", domain]);
  const out = await cli(home, ["dkim-signing-config", "new", "--domain", domain, "--json"]);
  return { home, created: (JSON.parse(out) as Created).config };
}

async function doctorDkim(home: string) {
  const r = await runCli(["doctor", "--json", "--dns-servers", dns.address, "--timeout", "2"], {
    home,
  });
  const report = JSON.parse(r.stdout) as { findings: Finding[] };
  const others = report.findings.filter((f) => f.check !== "dkim" && f.status === "FAIL");
  expect(others, "only the DKIM check may FAIL here").toEqual([]);
  return { code: r.code, dkim: report.findings.filter((f) => f.check === "dkim") };
}

describe("relay doctor: DKIM", () => {
  test("record published and matching: OK; an accepted domain without a config and a disabled config: WARN with the command", async () => {
    const { home, created } = await homeWithKey("contoso.com");
    publish(dns, created.dnsRecords);
    withSpf("fabrikam.com");
    withSpf("news.contoso.com");
    await cli(home, ["accepted-domain", "new", "--domain", "fabrikam.com"]);
    await cli(home, ["accepted-domain", "new", "--domain", "news.contoso.com"]);

    const { code, dkim } = await doctorDkim(home);
    expect(dkim).toEqual([
      {
        check: "dkim",
        subject: "contoso.com",
        status: "OK",
        detail: `signing with ${created.selector} (rsa); record published and matching`,
      },
      expect.objectContaining({
        subject: "fabrikam.com",
        status: "WARN",
        fix: "relay dkim-signing-config new --domain fabrikam.com, then publish the TXT record it prints",
      }),
      expect.objectContaining({
        subject: "news.contoso.com",
        status: "OK",
        detail: "signed as contoso.com (relaxed alignment)",
      }),
    ]);
    expect(code).toBe(0);

    await cli(home, [
      "dkim-signing-config",
      "set",
      "--domain",
      "contoso.com",
      "--enabled",
      "false",
    ]);
    const disabled = await doctorDkim(home);
    expect(disabled.dkim.find((f) => f.subject === "contoso.com")).toMatchObject({
      status: "WARN",
      detail: expect.stringMatching(/signing disabled/),
      fix: "relay dkim-signing-config set --domain contoso.com --enabled true",
    });
    expect(disabled.dkim.find((f) => f.subject === "news.contoso.com")?.status).toBe("WARN");
  }, 60_000);

  test("TXT record missing, then publishing another key: FAIL naming the record, exit 1; SERVFAIL: WARN", async () => {
    const { home, created } = await homeWithKey("tailspin.test");
    const name = `${created.selector}._domainkey.tailspin.test`;
    const missing = await doctorDkim(home);
    expect(missing.code).toBe(1);
    expect(missing.dkim).toEqual([
      expect.objectContaining({
        subject: "tailspin.test",
        status: "FAIL",
        detail: expect.stringContaining(`no TXT record at ${name}`),
        fix: expect.stringContaining("relay dkim-signing-config get --domain tailspin.test"),
      }),
    ]);

    // Another domain's key at this name: what a copy-paste slip publishes.
    const other = await homeWithKey("woodgrove.test");
    publish(dns, [{ ...(other.created.dnsRecords[0] as PrintedDnsRecord), name }]);
    const stale = await doctorDkim(home);
    expect(stale.code).toBe(1);
    expect(stale.dkim[0]).toMatchObject({
      status: "FAIL",
      detail: expect.stringMatching(/publishes a different public key/),
    });

    // SERVFAIL says nothing about the record (a verifier would TEMPFAIL): WARN, not FAIL.
    dns.set(name, "SERVFAIL");
    const unanswered = await doctorDkim(home);
    expect(unanswered.code).toBe(0);
    expect(unanswered.dkim[0]).toMatchObject({
      status: "WARN",
      detail: expect.stringContaining(`could not look up ${name}`),
    });
  }, 60_000);

  test("the private key's secret removed: FAIL with rotate as the fix, exit 1", async () => {
    const { home, created } = await homeWithKey("northwind.test");
    publish(dns, created.dnsRecords);
    expect((await doctorDkim(home)).dkim[0]?.status).toBe("OK");
    const secrets = await LocalSecretStore.open(relayHome(home).secrets);
    expect(await secrets.delete(created.keys[0]?.secretName ?? "")).toBe(true);

    const { code, dkim } = await doctorDkim(home);
    expect(code).toBe(1);
    expect(dkim).toEqual([
      expect.objectContaining({
        subject: "northwind.test",
        status: "FAIL",
        detail: expect.stringMatching(/^secret dkim\/northwind\.test\/\S+ cannot be read/),
        fix: expect.stringMatching(
          /^make a new key pair: relay dkim-signing-config rotate --domain northwind\.test/,
        ),
      }),
    ]);
  }, 60_000);
});
