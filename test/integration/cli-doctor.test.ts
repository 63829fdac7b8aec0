// `relay doctor` as a child process against a loopback DNS server, a loopback TCP sink and certificates made here: each check passing and failing (DKIM's failures: cli-doctor-dkim.test.ts).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openQueueStore } from "#adapters/local/queue.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { QUEUE, relayHome } from "#local/home.ts";
import { runCli } from "#test/support/cli.ts";
import { type PrintedDnsRecord, publish } from "#test/support/dkim.ts";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";
import { createServerCertificate, createTestCa } from "#test/support/tls.ts";

interface Finding {
  check: string;
  subject: string;
  status: "OK" | "WARN" | "FAIL";
  detail: string;
  fix?: string;
}

let dns: TestDnsServer;
let sink: Server;
let sinkPort: number;
let closedPort: number;
const homes: string[] = [];

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );

async function newHome(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "relay-doctor-"));
  homes.push(root);
  // A relay that has run here: its tracking database exists.
  new LocalTrackingStore(relayHome(root).tracking).close();
  return root;
}

const relay = (home: string, args: string[]) => runCli(args, { home });
const ok = async (home: string, args: string[]) => {
  const r = await relay(home, args);
  expect(r, r.stderr).toMatchObject({ code: 0 });
};

async function doctor(home: string, extra: string[] = []) {
  const r = await relay(home, [
    "doctor",
    "--json",
    "--dns-servers",
    dns.address,
    "--probe-domain",
    "probe.test",
    "--timeout",
    "2",
    ...extra,
  ]);
  return {
    code: r.code,
    stderr: r.stderr,
    report: JSON.parse(r.stdout) as { ok: boolean; findings: Finding[] },
  };
}

const find = (findings: Finding[], check: string, subject: string) =>
  findings.find((f) => f.check === check && f.subject === subject);

beforeAll(async () => {
  dns = await startDnsServer({
    // Egress 203.0.113.5: PTR relay.contoso.com, which resolves back to it.
    "5.113.0.203.in-addr.arpa": { PTR: ["relay.contoso.com"] },
    "relay.contoso.com": { A: ["203.0.113.5"] },
    // Egress 203.0.113.6: PTR to a name that does not resolve back (not forward-confirmed).
    "6.113.0.203.in-addr.arpa": { PTR: ["elsewhere.contoso.com"] },
    "elsewhere.contoso.com": { A: ["192.0.2.1"] },
    // 198.51.100.7 has no PTR at all (NXDOMAIN).
    "contoso.com": { TXT: ["v=spf1 include:_spf.contoso.com -all", "google-site-verification=x"] },
    "_spf.contoso.com": { TXT: ["v=spf1 ip4:203.0.113.0/24 ~all"] },
    "_mta-sts.contoso.com": { TXT: ["v=STSv1; id=2026113001"] },
    "fabrikam.com": { TXT: ["v=spf1 ip4:192.0.2.0/24 -all"] },
    "_mta-sts.fabrikam.com": { TXT: ["v=STSv1;"] },
    "northwind.test": { TXT: ["some other text"] },
    "probe.test": { MX: [{ exchange: "mx.probe.test", priority: 10 }] },
    "mx.probe.test": { A: ["127.0.0.1"] },
  });
  // The doctor closes as soon as TCP connects, so the greeting may meet a reset: not an error here.
  sink = createServer((socket) => socket.on("error", () => {}).end("220 sink\r\n"));
  sinkPort = await listen(sink);
  const gone = createServer();
  closedPort = await listen(gone);
  await new Promise<void>((resolve) => gone.close(() => resolve()));
}, 30_000);

afterAll(async () => {
  await dns?.close();
  await new Promise<void>((resolve) => (sink ? sink.close(() => resolve()) : resolve()));
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

describe("relay doctor", () => {
  test("every check OK: PTR forward-confirmed, SPF through include:, MTA-STS id, port reachable, CA-issued certificate, no dead letters, valid records", async () => {
    const home = await newHome();
    await ok(home, ["accepted-domain", "new", "--domain", "contoso.com"]);
    await ok(home, [
      "send-connector",
      "new",
      "--name",
      "To Internet",
      "--address-spaces",
      "*;1",
      "--port",
      String(sinkPort),
    ]);
    await ok(home, [
      "transport-config",
      "set",
      "--egress-ips",
      "203.0.113.5",
      "--host-name",
      "relay.contoso.com",
    ]);
    const dkim = await relay(home, [
      "dkim-signing-config",
      "new",
      "--domain",
      "contoso.com",
      "--json",
    ]);
    publish(
      dns,
      (JSON.parse(dkim.stdout) as { config: { dnsRecords: PrintedDnsRecord[] } }).config.dnsRecords,
    );
    const ca = await createTestCa();
    const cert = await createServerCertificate(["relay.contoso.com"], ca);
    await mkdir(relayHome(home).tls, { recursive: true });
    await writeFile(join(relayHome(home).tls, "cert.pem"), cert.cert);

    const { code, report } = await doctor(home);
    expect(report.findings.filter((f) => f.status !== "OK")).toEqual([]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.findings.map((f) => f.check)).toEqual([
      "records",
      "ptr",
      "spf",
      "dkim",
      "mta-sts",
      "outbound",
      "tls",
      "dead-letters",
    ]);
    expect(find(report.findings, "ptr", "203.0.113.5")?.detail).toMatch(
      /PTR relay.contoso.com, forward-confirmed/,
    );
    expect(find(report.findings, "spf", "contoso.com")?.detail).toMatch(/passes 203.0.113.5/);
    expect(find(report.findings, "dkim", "contoso.com")?.detail).toMatch(
      /record published and matching/,
    );
    expect(find(report.findings, "mta-sts", "contoso.com")?.detail).toMatch(/id 2026113001/);
    expect(find(report.findings, "outbound", `mx.probe.test:${sinkPort}`)?.status).toBe("OK");

    // The human report: one line per finding and the totals.
    const text = await relay(home, [
      "doctor",
      "--dns-servers",
      dns.address,
      "--probe-domain",
      "probe.test",
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^OK\s+ptr\s+203\.0\.113\.5\s+PTR relay\.contoso\.com/m);
    expect(text.stdout).toMatch(/8 OK, 0 WARN, 0 FAIL/);
  }, 60_000);

  test("each check failing names the subject and the fix; exit 1", async () => {
    const home = await newHome();
    await ok(home, ["accepted-domain", "new", "--domain", "contoso.com"]);
    await ok(home, ["accepted-domain", "new", "--domain", "fabrikam.com"]);
    await ok(home, ["accepted-domain", "new", "--domain", "northwind.test"]);
    await ok(home, [
      "send-connector",
      "new",
      "--name",
      "To Internet",
      "--address-spaces",
      "*;1",
      "--port",
      String(closedPort),
    ]);
    // An invalid record, as a hand edit would leave it.
    await writeFile(
      join(relayHome(home).records, "SendConnector", "broken.json"),
      JSON.stringify({
        kind: "SendConnector",
        name: "Broken",
        addressSpaces: [{ domain: "*", cost: 1 }],
        port: 99999,
      }),
    );
    const expired = await generate([{ name: "commonName", value: "relay.contoso.com" }], {
      keyType: "ec",
      curve: "P-256",
      notBeforeDate: new Date(Date.now() - 400 * 86_400_000),
      notAfterDate: new Date(Date.now() - 86_400_000),
    });
    const certFile = join(home, "expired.pem");
    await writeFile(certFile, expired.cert);
    const queues = openQueueStore(relayHome(home).queues);
    await queues.queue(QUEUE.deliveryDlq).send({ messageId: "20261124T162639Z-e72691dd77bb" });
    queues.close();

    const { code, report } = await doctor(home, [
      "--egress-ip",
      "203.0.113.6,198.51.100.7",
      "--tls-cert",
      certFile,
    ]);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    const f = report.findings;
    expect(find(f, "records", 'SendConnector "Broken"')).toMatchObject({
      status: "FAIL",
      detail: expect.stringMatching(/^port:/),
    });
    expect(find(f, "ptr", "198.51.100.7")).toMatchObject({
      status: "FAIL",
      detail: expect.stringMatching(/no PTR/),
    });
    expect(find(f, "ptr", "203.0.113.6")).toMatchObject({
      status: "FAIL",
      detail: expect.stringMatching(/not forward-confirmed/),
    });
    // contoso.com's SPF covers 203.0.113.6 (ip4 /24 through include:) but not 198.51.100.7 (-all).
    expect(find(f, "spf", "contoso.com")).toMatchObject({
      status: "FAIL",
      detail: expect.stringMatching(/198\.51\.100\.7 \(fail\)/),
    });
    expect(find(f, "spf", "fabrikam.com")).toMatchObject({
      status: "FAIL",
      fix: expect.stringMatching(/ip4:203\.0\.113\.6 ip4:198\.51\.100\.7/),
    });
    expect(find(f, "spf", "northwind.test")).toMatchObject({
      status: "FAIL",
      detail: expect.stringMatching(/no SPF record/),
    });
    expect(find(f, "dkim", "northwind.test")).toMatchObject({
      status: "WARN",
      fix: expect.stringMatching(/^relay dkim-signing-config new --domain northwind\.test/),
    });
    expect(find(f, "mta-sts", "contoso.com")?.status).toBe("OK");
    expect(find(f, "mta-sts", "fabrikam.com")).toMatchObject({
      status: "FAIL",
      detail: expect.stringMatching(/no valid id/),
    });
    expect(find(f, "mta-sts", "northwind.test")).toMatchObject({
      status: "WARN",
      fix: expect.stringMatching(/_mta-sts\.northwind\.test/),
    });
    expect(find(f, "outbound", `mx.probe.test:${closedPort}`)).toMatchObject({ status: "FAIL" });
    expect(find(f, "tls", certFile)).toMatchObject({
      status: "FAIL",
      detail: expect.stringMatching(/^expired/),
    });
    expect(find(f, "dead-letters", "Poison")).toMatchObject({
      status: "WARN",
      detail: expect.stringMatching(/^1 message/),
    });
    for (const x of f.filter((y) => y.status !== "OK"))
      expect(x.fix, `${x.check} ${x.subject}`).toBeTruthy();
  }, 60_000);

  test("bad input exits 2 naming the flag; a RELAY_HOME that does not exist is refused", async () => {
    const home = await newHome();
    const badIp = await relay(home, ["doctor", "--egress-ip", "relay.contoso.com"]);
    expect(badIp.code).toBe(2);
    expect(badIp.stderr).toMatch(/--egress-ip: "relay.contoso.com" is not an IP address/);
    const missing = await relay(home, ["doctor", "--home", join(home, "typo")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--home: ".*typo" does not exist/);
  });
});
