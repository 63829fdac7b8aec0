// MX delivery under DANE (RFC 7672): TLSA over a loopback DNS server that sets AD, sinks with certificates made in the test.
import { createHash, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryMtaStsPolicyStore } from "#adapters/memory/mta-sts-store.ts";
import { NetworkTlsPolicyLookups } from "#adapters/tls-policy/lookups.ts";
import { startSecureDns, type TestSecureDns } from "#test/support/dnssec-server.ts";
import {
  policyText,
  startPolicyServer,
  type TestPolicyServer,
} from "#test/support/mta-sts-server.ts";
import { sendConnector, TestRelay } from "#test/support/relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import {
  createServerCertificate,
  createTestCa,
  type TestCa,
  type TestCertificate,
} from "#test/support/tls.ts";

let ca: TestCa;
let dns: TestSecureDns;
let policies: TestPolicyServer;
let selfSigned: TestCertificate;
let caSigned: TestCertificate;
let eeSink: Sink;
let taSink: Sink;

/** TLSA association data: SHA-256 of the certificate's SubjectPublicKeyInfo (selector 1, matching 1). */
const spkiSha256 = (pem: string) =>
  createHash("sha256")
    .update(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");

beforeAll(async () => {
  ca = await createTestCa("DANE test issuer");
  // DANE-EE needs no CA and no matching name: a self-signed certificate for some other name.
  selfSigned = await createServerCertificate(["not-the-mx.example"]);
  caSigned = await createServerCertificate(["mx.ta.test"], ca);
  eeSink = await startSink({ host: "127.0.0.5", tls: selfSigned });
  // The sink presents its certificate and the issuer, as DANE-TA (RFC 7672 §3.1.2) requires.
  taSink = await startSink({
    host: "127.0.0.6",
    port: eeSink.port,
    tls: { cert: `${caSigned.cert}\n${ca.cert}`, key: caSigned.key },
  });
  policies = await startPolicyServer(await createServerCertificate(["mta-sts.both.test"], ca));
  dns = await startSecureDns({
    // RFC 7672 §2.2: DANE needs the MX RRset and the MX host's addresses validated too.
    "ee.test": { ad: true, MX: [{ exchange: "mx.ee.test", priority: 10 }] },
    "mx.ee.test": { ad: true, A: ["127.0.0.5"] },
    "insecure.test": { ad: false, MX: [{ exchange: "mx.ee.test", priority: 10 }] },
    "ta.test": { ad: true, MX: [{ exchange: "mx.ta.test", priority: 10 }] },
    "mx.ta.test": { ad: true, A: ["127.0.0.6"] },
    "_25._tcp.mx.ta.test": {
      ad: true,
      TLSA: [{ usage: 2, selector: 1, matchingType: 1, data: spkiSha256(ca.cert) }],
    },
    "both.test": { ad: true, MX: [{ exchange: "mx.ee.test", priority: 10 }] },
    "_mta-sts.both.test": { TXT: ["v=STSv1; id=b1"] },
    "mta-sts.both.test": { A: ["127.0.0.1"] },
  });
  policies.replies.set("mta-sts.both.test", { body: policyText("enforce", ["mx.other.test"]) });
});

afterAll(async () => {
  await Promise.all([eeSink.close(), taSink.close(), dns.close(), policies.close()]);
});

function relay(connector: Record<string, unknown> = {}) {
  return new TestRelay({
    records: [
      sendConnector({
        name: "To Internet",
        port: eeSink.port,
        externalDnsServers: [dns.address],
        dnssecValidatingResolver: true,
        ...connector,
      }),
    ],
    tlsPolicy: {
      lookups: new NetworkTlsPolicyLookups({ fetch: { ca: [ca.cert], port: policies.port } }),
      mtaStsStore: new MemoryMtaStsPolicyStore(),
    },
  });
}

const eeRecord = (data: string) => ({ usage: 3, selector: 1, matchingType: 1, data });

describe("DANE", () => {
  it("authenticated 3 1 1 matching the certificate: delivered over TLS, no name or CA check", async () => {
    dns.set("_25._tcp.mx.ee.test", { ad: true, TLSA: [eeRecord(spkiSha256(selfSigned.cert))] });
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["ann@ee.test"] });
    await r.pump();
    expect(eeSink.received.at(-1)).toMatchObject({ rcptTo: ["ann@ee.test"], secure: true });
    expect((await r.row(m.id, "ann@ee.test"))?.tlsPolicy).toBe(
      "DANE: authenticated TLSA _25._tcp.mx.ee.test (1 usable record)",
    );
  });

  it("authenticated 3 1 1 that does not match: transient, nothing sent, LastError says DANE", async () => {
    dns.set("_25._tcp.mx.ee.test", { ad: true, TLSA: [eeRecord("00".repeat(32))] });
    const r = relay();
    const before = eeSink.received.length;
    const m = await r.submit({ from: "app@contoso.test", to: ["bob@ee.test"] });
    await r.pump();
    expect(eeSink.received.length).toBe(before);
    const row = await r.row(m.id, "bob@ee.test");
    expect(row?.status).toBe("Deferred");
    expect(row?.lastError).toContain(
      "DANE (_25._tcp.mx.ee.test): no TLSA record of _25._tcp.mx.ee.test matches the presented certificate",
    );
  });

  it("TLSA without AD is ignored: delivered opportunistically", async () => {
    dns.set("_25._tcp.mx.ee.test", { ad: false, TLSA: [eeRecord("00".repeat(32))] });
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["cy@ee.test"] });
    await r.pump();
    const row = await r.row(m.id, "cy@ee.test");
    expect(row?.status).toBe("Delivered");
    expect(row?.tlsPolicy).toContain("no authenticated TLSA");
  });

  it("an MX RRset without AD turns DANE off for the domain (RFC 7672 §2.2.1): no TLSA asked, delivered", async () => {
    dns.set("_25._tcp.mx.ee.test", { ad: true, TLSA: [eeRecord("00".repeat(32))] });
    const r = relay();
    const asked = dns.queries.length;
    const m = await r.submit({ from: "app@contoso.test", to: ["hal@insecure.test"] });
    await r.pump();
    expect((await r.row(m.id, "hal@insecure.test"))?.status).toBe("Delivered");
    expect(dns.queries.slice(asked)).not.toContain("TLSA _25._tcp.mx.ee.test");
  });

  it("a connector whose resolver is not trusted to validate never looks up TLSA", async () => {
    dns.set("_25._tcp.mx.ee.test", { ad: true, TLSA: [eeRecord("00".repeat(32))] });
    const r = relay({ dnssecValidatingResolver: false });
    const asked = dns.queries.length;
    const m = await r.submit({ from: "app@contoso.test", to: ["dee@ee.test"] });
    await r.pump();
    expect((await r.row(m.id, "dee@ee.test"))?.status).toBe("Delivered");
    expect(dns.queries.slice(asked).filter((q) => q.startsWith("TLSA"))).toEqual([]);
  });

  it("authenticated 2 1 1 naming the issuer of the presented chain: delivered", async () => {
    const r = relay({ port: taSink.port });
    const m = await r.submit({ from: "app@contoso.test", to: ["eve@ta.test"] });
    await r.pump();
    expect(taSink.received.at(-1)).toMatchObject({ rcptTo: ["eve@ta.test"], secure: true });
    expect((await r.row(m.id, "eve@ta.test"))?.tlsPolicy).toContain("DANE: authenticated TLSA");
  });

  it("takes precedence over MTA-STS (RFC 8461 §2): an MX the policy does not list is used under DANE", async () => {
    dns.set("_25._tcp.mx.ee.test", { ad: true, TLSA: [eeRecord(spkiSha256(selfSigned.cert))] });
    const r = relay();
    const m = await r.submit({ from: "app@contoso.test", to: ["fay@both.test"] });
    await r.pump();
    expect(await r.row(m.id, "fay@both.test")).toMatchObject({
      status: "Delivered",
      tlsPolicy: expect.stringMatching(/^DANE: /),
    });
    // Without DANE the same MX is refused by the policy.
    dns.set("_25._tcp.mx.ee.test", { ad: false });
    const n = await r.submit({ from: "app@contoso.test", to: ["gus@both.test"] });
    await r.pump();
    expect((await r.row(n.id, "gus@both.test"))?.lastError).toContain(
      "MTA-STS enforce: mx.ee.test not in policy id b1",
    );
  });
});
