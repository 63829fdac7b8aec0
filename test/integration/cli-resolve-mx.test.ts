// `relay resolve-mx` as a child process against a loopback DNS server: preference order, null MX, implicit MX, NXDOMAIN.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCli } from "#test/support/cli.ts";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";

let dns: TestDnsServer;
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "relay-cli-mx-"));
  dns = await startDnsServer({
    "example.net": {
      MX: [
        { exchange: "mx2.example.net", priority: 20 },
        { exchange: "mx1.example.net", priority: 10 },
      ],
    },
    "mx1.example.net": { A: ["192.0.2.11"] },
    "mx2.example.net": { A: ["192.0.2.12"], AAAA: ["2001:db8::12"] },
    "nomail.example.net": { MX: [{ exchange: ".", priority: 0 }] },
    "plain.example.net": { A: ["192.0.2.30"] },
  });
});
afterAll(async () => {
  await dns?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe("resolve-mx", () => {
  const mx = (domain: string, json = true) =>
    runCli(["resolve-mx", domain, "--dns-servers", dns.address, ...(json ? ["--json"] : [])], {
      home,
    });

  test("MX hosts in preference order with their addresses", async () => {
    const got = await mx("example.net");
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual({
      domain: "example.net",
      result: "mx",
      dnsServers: [dns.address],
      mx: [
        { preference: 10, exchange: "mx1.example.net", addresses: ["192.0.2.11"] },
        { preference: 20, exchange: "mx2.example.net", addresses: ["192.0.2.12", "2001:db8::12"] },
      ],
      message: expect.stringMatching(/2 MX record\(s\) in preference order/),
    });
    const table = await mx("example.net", false);
    expect(table.stdout).toMatch(
      /Preference\s+Exchange\s+Addresses\n[- ]+\n10\s+mx1\.example\.net\s+192\.0\.2\.11\n20\s+mx2\.example\.net\s+192\.0\.2\.12, 2001:db8::12/,
    );
  });

  test("null MX, no MX (implicit) and NXDOMAIN are said plainly, with their exit codes", async () => {
    const nullMx = await mx("nomail.example.net", false);
    expect(nullMx.code).toBe(1);
    expect(nullMx.stdout).toMatch(/null MX \("MX 0 \."\): the domain accepts no mail \(RFC 7505\)/);
    const implicit = await mx("plain.example.net");
    expect(implicit.code).toBe(0);
    expect(JSON.parse(implicit.stdout)).toMatchObject({
      result: "implicit-mx",
      mx: [{ preference: 0, exchange: "plain.example.net", addresses: ["192.0.2.30"] }],
    });
    const nx = await mx("nowhere.example.net", false);
    expect(nx.code).toBe(3);
    expect(nx.stdout).toMatch(/nowhere\.example\.net: the domain does not exist \(NXDOMAIN\)/);
  });
});
