// Smart host delivery and TLS policy on real SMTP peers: failover order, authentication from the secret store, required vs opportunistic TLS, certificate and domain validation.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sendConnector, TestRelay } from "#test/support/relay.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import { createServerCertificate, createTestCa, type TestCa } from "#test/support/tls.ts";

let ca: TestCa;
let plain: Sink;
let busy: Sink;
let trusted: Sink;
let selfSigned: Sink;
let withAuth: Sink;
let closedPort: number;

beforeAll(async () => {
  ca = await createTestCa();
  const cert = await createServerCertificate(["smtp.relayhost.test"], ca);
  plain = await startSink();
  busy = await startSink();
  trusted = await startSink({ tls: cert });
  selfSigned = await startSink({ tls: await createServerCertificate(["smtp.relayhost.test"]) });
  withAuth = await startSink({
    tls: cert,
    auth: { username: "relay@contoso.test", password: "s3cret pass", requireTls: true },
  });
  const gone = await startSink();
  closedPort = gone.port;
  await gone.close();
});

afterAll(async () => {
  await Promise.all([plain, busy, trusted, selfSigned, withAuth].map((s) => s.close()));
});

afterEach(() => {
  for (const s of [plain, busy, trusted, selfSigned, withAuth]) {
    s.script = {};
    s.received.length = 0;
  }
});

const SECRET = JSON.stringify({ username: "relay@contoso.test", password: "s3cret pass" });

function relay(fields: Record<string, unknown>, secrets: Record<string, string> = {}): TestRelay {
  return new TestRelay({
    records: [
      sendConnector({
        name: "Smart host",
        dnsRoutingEnabled: false,
        protocolLogging: "Verbose",
        ...fields,
      }),
    ],
    secrets,
    ca: ca.cert,
  });
}

const hosts = (...sinks: (Sink | number)[]) =>
  sinks.map((s) => `127.0.0.1:${typeof s === "number" ? s : s.port}`);

async function deliverOne(r: TestRelay, to = "ann@fabrikam.test") {
  const m = await r.submit({ from: "app@contoso.test", to: [to] });
  await r.pump();
  return { m, row: await r.row(m.id, to) };
}

describe("smart hosts", () => {
  it("fails over to the next smart host when the first cannot be reached", async () => {
    const r = relay({ smartHosts: hosts(closedPort, plain) });
    const { row } = await deliverOne(r);

    expect(row?.status).toBe("Delivered");
    expect(row?.nextHop).toBe(hosts(closedPort, plain).join(","));
    expect(plain.received).toHaveLength(1);
    expect(r.protocol.some((l) => l.line.includes("ECONNREFUSED"))).toBe(true);
  });

  it("fails over on a 4xx and keeps a 5xx from the first smart host final", async () => {
    busy.script = { mailFrom: "451 4.3.2 System not accepting network messages" };
    const r = relay({ smartHosts: hosts(busy, plain) });
    expect((await deliverOne(r)).row?.status).toBe("Delivered");
    expect(plain.received).toHaveLength(1);

    busy.script = { rcpt: () => "550 5.7.1 Relaying denied" };
    const r2 = relay({ smartHosts: hosts(busy, plain) });
    const { row } = await deliverOne(r2, "bob@fabrikam.test");
    expect(row?.status).toBe("Failed");
    expect(row?.lastError).toBe("127.0.0.1: 550 5.7.1 Relaying denied");
    expect(plain.received).toHaveLength(1);
  });

  it("authenticates with credentials from the secret store, over TLS, and redacts them in the protocol log", async () => {
    const r = relay(
      {
        smartHosts: hosts(withAuth),
        smartHostAuthMechanism: "BasicAuthRequireTls",
        smartHostAuthSecret: "relay/smarthost",
        fqdn: "mail.contoso.test",
      },
      { "relay/smarthost": SECRET },
    );
    const { row } = await deliverOne(r);

    expect(row?.status).toBe("Delivered");
    expect(withAuth.received[0]).toMatchObject({
      authUser: "relay@contoso.test",
      secure: true,
      ehlo: "mail.contoso.test",
    });
    const log = r.protocol.map((l) => `${l.direction} ${l.line}`);
    expect(log).toContain("> AUTH PLAIN ****");
    expect(log).toContain("> EHLO mail.contoso.test");
    const secretForms = [
      "s3cret",
      "relay@contoso.test\u0000",
      Buffer.from("\u0000relay@contoso.test\u0000s3cret pass").toString("base64"),
      Buffer.from("relay@contoso.test").toString("base64"),
    ];
    for (const s of secretForms) expect(log.join("\n")).not.toContain(s);
  });

  it("defers with the smart host's reply when authentication fails", async () => {
    const r = relay(
      {
        smartHosts: hosts(withAuth),
        smartHostAuthMechanism: "BasicAuthRequireTls",
        smartHostAuthSecret: "relay/smarthost",
      },
      { "relay/smarthost": JSON.stringify({ username: "relay@contoso.test", password: "nope" }) },
    );
    const { row } = await deliverOne(r);

    expect(row?.status).toBe("Deferred");
    expect(row?.lastError).toContain("535 5.7.8");
    expect(withAuth.received).toHaveLength(0);
  });

  it("defers when the credentials secret is missing", async () => {
    const r = relay({
      smartHosts: hosts(withAuth),
      smartHostAuthMechanism: "BasicAuthRequireTls",
      smartHostAuthSecret: "relay/missing",
    });
    const { row } = await deliverOne(r);

    expect(row?.status).toBe("Deferred");
    expect(row?.lastError).toContain(
      '451 4.7.0 Smart host credentials "relay/missing" unavailable',
    );
  });
});

describe("TLS policy", () => {
  it("sends in clear to a host without STARTTLS when TLS is opportunistic", async () => {
    const r = relay({ smartHosts: hosts(plain) });
    expect((await deliverOne(r)).row?.status).toBe("Delivered");
    expect(plain.received[0]?.secure).toBe(false);
  });

  it("encrypts opportunistically without validating the certificate", async () => {
    const r = relay({ smartHosts: hosts(selfSigned) });
    expect((await deliverOne(r)).row?.status).toBe("Delivered");
    expect(selfSigned.received[0]?.secure).toBe(true);
  });

  it("defers instead of sending in clear when TLS is required and not offered", async () => {
    const r = relay({ smartHosts: hosts(plain), requireTls: true });
    const { row } = await deliverOne(r);

    expect(row?.status).toBe("Deferred");
    expect(row?.lastError).toContain("451 4.7.5 TLS negotiation failed");
    expect(plain.received).toHaveLength(0);
  });

  it("accepts a certificate that chains to a trusted CA under CertificateValidation", async () => {
    const r = relay({
      smartHosts: hosts(trusted),
      requireTls: true,
      tlsAuthLevel: "CertificateValidation",
    });
    expect((await deliverOne(r)).row?.status).toBe("Delivered");
    expect(trusted.received[0]?.secure).toBe(true);
  });

  it("refuses an untrusted certificate under CertificateValidation", async () => {
    const r = relay({
      smartHosts: hosts(selfSigned),
      requireTls: true,
      tlsAuthLevel: "CertificateValidation",
    });
    const { row } = await deliverOne(r);

    expect(row?.status).toBe("Deferred");
    expect(row?.lastError).toContain("4.7.5");
    expect(selfSigned.received).toHaveLength(0);
  });

  it("checks the certificate name against tlsDomain under DomainValidation", async () => {
    const ok = relay({
      smartHosts: hosts(trusted),
      requireTls: true,
      tlsAuthLevel: "DomainValidation",
      tlsDomain: "smtp.relayhost.test",
    });
    expect((await deliverOne(ok)).row?.status).toBe("Delivered");

    const wrong = relay({
      smartHosts: hosts(trusted),
      requireTls: true,
      tlsAuthLevel: "DomainValidation",
      tlsDomain: "smtp.other.test",
    });
    const { row } = await deliverOne(wrong, "bob@fabrikam.test");
    expect(row?.status).toBe("Deferred");
    expect(row?.lastError).toMatch(/4\.7\.5 .*smtp\.other\.test/);
    expect(trusted.received).toHaveLength(1);
  });
});

describe("connector changes", () => {
  it("reroutes a deferred job whose connector was deleted", async () => {
    const r = relay({ smartHosts: hosts(closedPort) });
    const { m, row } = await deliverOne(r);
    expect(row?.status).toBe("Deferred");

    await r.records.delete("SendConnector", "Smart host");
    await r.records.put(
      sendConnector({ name: "New smart host", dnsRoutingEnabled: false, smartHosts: hosts(plain) }),
    );
    r.advance(60);
    await r.pump();

    expect(await r.row(m.id, "ann@fabrikam.test")).toMatchObject({
      status: "Delivered",
      connector: "New smart host",
    });
    expect(plain.received).toHaveLength(1);
  });

  it("fails with 5.4.4 and an NDR when no connector is left for the domain", async () => {
    const r = relay({ smartHosts: hosts(closedPort) });
    const { m } = await deliverOne(r);
    await r.records.delete("SendConnector", "Smart host");
    r.advance(60);
    await r.pump();

    const row = await r.row(m.id, "ann@fabrikam.test");
    expect(row?.status).toBe("Failed");
    expect(row?.lastError).toContain("550 5.4.4");
    const events = await r.tracking.events({ messageId: m.id });
    expect(events.filter((e) => e.event === "DSN")).toHaveLength(1);
  });
});
