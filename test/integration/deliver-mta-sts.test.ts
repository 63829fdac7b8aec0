// MX delivery under MTA-STS (RFC 8461): a loopback HTTPS policy server with a test CA, a loopback DNS server, TLS sinks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryMtaStsPolicyStore } from "#adapters/memory/mta-sts-store.ts";
import { NetworkTlsPolicyLookups } from "#adapters/tls-policy/lookups.ts";
import {
  type SecureZoneEntry,
  startSecureDns,
  type TestSecureDns,
} from "#test/support/dnssec-server.ts";
import {
  policyText,
  startPolicyServer,
  type TestPolicyServer,
} from "#test/support/mta-sts-server.ts";
import { sendConnector, TestRelay } from "#test/support/relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import { createServerCertificate, createTestCa, type TestCa } from "#test/support/tls.ts";

let ca: TestCa;
let dns: TestSecureDns;
let policies: TestPolicyServer;
let mx1: Sink;
let wrongName: Sink;
let unlisted: Sink;

const DOMAINS = [
  "enforced.test",
  "stale.test",
  "testing.test",
  "badcert.test",
  "moved.test",
  "trial.test",
];

beforeAll(async () => {
  ca = await createTestCa();
  const names = DOMAINS.map((d) => `mta-sts.${d}`);
  policies = await startPolicyServer(await createServerCertificate(names, ca));
  mx1 = await startSink({
    host: "127.0.0.2",
    tls: await createServerCertificate(["mx1.enforced.test", "mx.testing.test"], ca),
  });
  wrongName = await startSink({
    host: "127.0.0.3",
    port: mx1.port,
    tls: await createServerCertificate(["other.example"], ca),
  });
  unlisted = await startSink({
    host: "127.0.0.4",
    port: mx1.port,
    tls: await createServerCertificate(["mx3.elsewhere.test"], ca),
  });
  const zone: Record<string, SecureZoneEntry> = {
    "mx1.enforced.test": { A: ["127.0.0.2"] },
    "mx.testing.test": { A: ["127.0.0.2"] },
    "mx1.badcert.test": { A: ["127.0.0.3"] },
    "mx1.trial.test": { A: ["127.0.0.3"] },
    "mx3.elsewhere.test": { A: ["127.0.0.4"] },
  };
  for (const d of DOMAINS) zone[`mta-sts.${d}`] = { A: ["127.0.0.1"] };
  dns = await startSecureDns(zone);
});

afterAll(async () => {
  await Promise.all([
    mx1.close(),
    wrongName.close(),
    unlisted.close(),
    dns.close(),
    policies.close(),
  ]);
});

function publish(domain: string, id: string, mode: string, mx: string[], maxAge = 86_400) {
  dns.set(`_mta-sts.${domain}`, { TXT: [`v=STSv1; id=${id}`] });
  policies.replies.set(`mta-sts.${domain}`, { body: policyText(mode, mx, maxAge) });
}

function relay(warnings: string[] = []) {
  return new TestRelay({
    ca: ca.cert,
    records: [
      sendConnector({ name: "To Internet", port: mx1.port, externalDnsServers: [dns.address] }),
    ],
    tlsPolicy: {
      lookups: new NetworkTlsPolicyLookups({
        fetch: { ca: [ca.cert], port: policies.port, timeoutMs: 3000 },
      }),
      mtaStsStore: new MemoryMtaStsPolicyStore(),
    },
    log: {
      info() {},
      warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
      error() {},
    },
  });
}

describe("MTA-STS enforce", () => {
  it("delivers to a listed MX over TLS with a certificate for its name, and the row says why", async () => {
    dns.set("enforced.test", { MX: [{ exchange: "mx1.enforced.test", priority: 10 }] });
    publish("enforced.test", "20261124", "enforce", ["*.enforced.test"]);
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@enforced.test"] });
    await r.pump();
    expect(mx1.received.at(-1)).toMatchObject({ rcptTo: ["ann@enforced.test"], secure: true });
    expect(await r.row(m.id, "ann@enforced.test")).toMatchObject({
      status: "Delivered",
      tlsPolicy: "MTA-STS enforce: policy id 20261124 of enforced.test lists mx1.enforced.test",
    });
  });

  it("skips an MX the policy does not list: transient, LastError names the check", async () => {
    dns.set("stale.test", { MX: [{ exchange: "mx3.elsewhere.test", priority: 10 }] });
    publish("stale.test", "2024a", "enforce", ["mx1.stale.test"]);
    const r = relay();
    const before = unlisted.connections;
    const m = await r.submit({ from: "app@contoso.test", to: ["bob@stale.test"] });
    await r.pump();
    expect(unlisted.connections).toBe(before);
    const row = await r.row(m.id, "bob@stale.test");
    expect(row?.status).toBe("Deferred");
    expect(row?.lastError).toContain(
      "MTA-STS enforce: mx3.elsewhere.test not in policy id 2024a of stale.test (mx: mx1.stale.test)",
    );
    expect(row?.lastError).toMatch(/^451 4\.7\.5/);
  });

  it("refuses a certificate that does not name the MX host: transient, LastError names MTA-STS", async () => {
    dns.set("badcert.test", { MX: [{ exchange: "mx1.badcert.test", priority: 10 }] });
    publish("badcert.test", "7", "enforce", ["mx1.badcert.test"]);
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["cy@badcert.test"] });
    await r.pump();
    expect(wrongName.received).toHaveLength(0);
    const row = await r.row(m.id, "cy@badcert.test");
    expect(row?.status).toBe("Deferred");
    expect(row?.lastError).toContain("MTA-STS enforce (policy id 7): TLS negotiation failed");
    expect(row?.lastError).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|altnames/i);
  });
});

describe("MTA-STS testing", () => {
  it("delivers to an unlisted MX and logs what enforce would have refused", async () => {
    dns.set("testing.test", { MX: [{ exchange: "mx.testing.test", priority: 10 }] });
    publish("testing.test", "t1", "testing", ["mx9.testing.test"]);
    const warnings: string[] = [];
    const r = relay(warnings);
    const m = await r.submit({ from: "app@contoso.test", to: ["dee@testing.test"] });
    await r.pump();
    expect(await r.row(m.id, "dee@testing.test")).toMatchObject({
      status: "Delivered",
      tlsPolicy: expect.stringContaining("MTA-STS testing: policy id t1"),
    });
    expect(warnings.join("\n")).toContain("mx.testing.test not in policy id t1");
  });

  it("delivers past a certificate that does not name the MX, and logs the failed check", async () => {
    dns.set("trial.test", { MX: [{ exchange: "mx1.trial.test", priority: 10 }] });
    publish("trial.test", "t2", "testing", ["mx1.trial.test"]);
    const warnings: string[] = [];
    const r = relay(warnings);
    const m = await r.submit({ from: "app@contoso.test", to: ["eli@trial.test"] });
    await r.pump();
    expect((await r.row(m.id, "eli@trial.test"))?.status).toBe("Delivered");
    expect(wrongName.received.at(-1)).toMatchObject({ rcptTo: ["eli@trial.test"], secure: true });
    expect(warnings.join("\n")).toMatch(
      /certificate of mx1\.trial\.test not valid: ERR_TLS_CERT_ALTNAME_INVALID/,
    );
  });
});

describe("policy cache", () => {
  it("fetches once per TXT id, and again when the id changes", async () => {
    dns.set("moved.test", { MX: [{ exchange: "mx1.enforced.test", priority: 10 }] });
    publish("moved.test", "v1", "enforce", ["mx1.enforced.test"]);
    const r = relay();
    const fetches = () =>
      policies.requests.filter((q) => q.startsWith("mta-sts.moved.test ")).length;
    await r.submit({ from: "app@contoso.test", to: ["a@moved.test"] });
    await r.pump();
    await r.submit({ from: "app@contoso.test", to: ["b@moved.test"] });
    await r.pump();
    expect(fetches()).toBe(1);
    // The new policy lists another host only: after the id change the relay must know it.
    publish("moved.test", "v2", "enforce", ["mx7.moved.test"]);
    const m = await r.submit({ from: "app@contoso.test", to: ["c@moved.test"] });
    await r.pump();
    expect(fetches()).toBe(2);
    expect((await r.row(m.id, "c@moved.test"))?.lastError).toContain("not in policy id v2");
  });
});
