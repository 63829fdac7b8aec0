// Certificate reload without a restart: PEM files (local mode) and the Secrets Manager secret (AWS), certificate and client CA bundle.
import { X509Certificate } from "node:crypto";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import nodemailer from "nodemailer";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { SecretsManagerStore } from "#adapters/aws/secrets.ts";
import { secretTlsSource, type TlsSource } from "#listener/tls.ts";
import { fileTlsSource } from "#local/tls.ts";
import { startSecretsManagerFake } from "#test/support/aws-emulators.ts";
import {
  acceptedDomain,
  receiveConnector,
  testPki,
  useTestListener,
} from "#test/support/listener.ts";
import { waitFor } from "#test/support/relay-process.ts";
import { transaction } from "#test/support/smtp-client.ts";
import {
  createClientCertificate,
  createServerCertificate,
  createTestCa,
  type TestCa,
  type TestCertificate,
} from "#test/support/tls.ts";

const h = useTestListener();
let relayCa: TestCa;
/** Three generations of the relay's certificate, all for localhost from the test CA. */
const pairs: TestCertificate[] = [];
let partnerA: TestCa;
let partnerB: TestCa;
let certFromB: TestCertificate;

beforeAll(async () => {
  relayCa = (await testPki()).ca;
  for (let i = 0; i < 3; i++) pairs.push(await createServerCertificate(["localhost"], relayCa));
  partnerA = await createTestCa("Partner CA A");
  partnerB = await createTestCa("Partner CA B");
  certFromB = await createClientCertificate(partnerB, { names: ["mail.fabrikam.com"] });
});

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

const records = [
  receiveConnector("Default", { bindings: ["127.0.0.1:25"] }),
  receiveConnector("Client TLS", { bindings: ["127.0.0.1:465"], implicitTls: true }),
  receiveConnector("Partner", {
    bindings: ["127.0.0.1:2525"],
    permissionGroups: ["AnonymousUsers", "Partners"],
    grantedPermissions: ["Partners:AcceptAnyRecipient"],
    partnerDomains: ["*.fabrikam.com"],
    tlsClientCaBundle: "partners.pem",
  }),
  acceptedDomain("contoso.com"),
];

/** The certificate a brand-new implicit-TLS session is shown, as a real TLS client sees it. */
function servedFingerprint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect(
      { host: "127.0.0.1", port: h.t.port("127.0.0.1:465"), ca: h.t.ca, servername: "localhost" },
      () => {
        resolve(s.getPeerX509Certificate()?.fingerprint256 ?? "");
        s.destroy();
      },
    );
    s.once("error", reject);
  });
}

/** A session that reached TLS before the change: EHLO, STARTTLS, EHLO on port 25. */
async function sessionInTls() {
  const { client } = await h.open({ binding: "127.0.0.1:25" });
  await client.command("EHLO app.example");
  await client.startTls(h.t.ca);
  await client.command("EHLO app.example");
  return client;
}

/** A partner's server relaying through the Partner connector with a client certificate. */
async function partnerRelay(cert: TestCertificate): Promise<number> {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: h.t.port("127.0.0.1:2525"),
    requireTLS: true,
    tls: { ca: h.t.ca, servername: "localhost", cert: cert.cert, key: cert.key },
  });
  try {
    await transport.sendMail({
      envelope: { from: "orders@fabrikam.com", to: ["buyer@tailspintoys.com"] },
      raw: "Subject: PO\r\n\r\nhi\r\n",
    });
    return 250;
  } catch (error) {
    return (error as { responseCode?: number }).responseCode ?? 0;
  } finally {
    transport.close();
  }
}

const warnings = (message: string) => h.t.logs.filter((l) => l.message === message).length;

async function start(source: TlsSource) {
  await h.start(
    records,
    { tlsReloadIntervalMs: 100, bindPorts: { "25": 0, "465": 0, "2525": 0 } },
    {
      tlsSource: source,
    },
  );
}

/**
 * The same story over either source: `put(name, value)` changes what the source holds, `cert` and
 * `bundle` are how a certificate pair and a CA bundle are written to it.
 */
async function reloadStory(put: {
  pair(p: { cert: string; key: string }): Promise<void>;
  brokenPair(): Promise<void>;
  bundle(pem: string): Promise<void>;
}) {
  const before = await sessionInTls();
  expect(await servedFingerprint()).toBe(fingerprint(pairs[0]!.cert));

  // Renewal: new sessions get the new certificate; the session already in TLS goes on.
  await put.pair(pairs[1]!);
  await waitFor(
    "the renewed certificate",
    async () => (await servedFingerprint()) === fingerprint(pairs[1]!.cert),
    10_000,
  );
  const t = await transaction(
    before,
    "app@contoso.com",
    ["sales@contoso.com"],
    "Subject: x\r\n\r\nx\r\n",
  );
  expect(t.end?.code).toBe(250);

  // A broken renewal is logged once and the current certificate stays.
  await put.brokenPair();
  await waitFor(
    "the warning",
    () => warnings("new TLS certificate not usable; keeping the current one") > 0,
    10_000,
  );
  await new Promise((r) => setTimeout(r, 500));
  expect(warnings("new TLS certificate not usable; keeping the current one")).toBe(1);
  expect(await servedFingerprint()).toBe(fingerprint(pairs[1]!.cert));
  await put.pair(pairs[2]!);
  await waitFor(
    "the repaired certificate",
    async () => (await servedFingerprint()) === fingerprint(pairs[2]!.cert),
    10_000,
  );

  // The client CA bundle: a certificate from CA B earns Partners once the bundle names CA B.
  expect(await partnerRelay(certFromB)).toBe(550);
  await put.bundle(partnerB.cert);
  await waitFor(
    "the new bundle",
    () => h.t.logs.some((l) => l.message === "client CA bundle reloaded"),
    10_000,
  );
  expect(await partnerRelay(certFromB)).toBe(250);
  await put.bundle("-----BEGIN CERTIFICATE-----\nMIIB");
  await waitFor(
    "the bundle warning",
    () => warnings("client CA bundle not usable; keeping the current one") > 0,
    10_000,
  );
  expect(await partnerRelay(certFromB)).toBe(250);
}

describe("local mode: PEM files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tls-reload-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** As renewal tools write: a temporary file renamed over the old one. */
  const replace = async (name: string, text: string) => {
    await writeFile(join(dir, `${name}.new`), text);
    await rename(join(dir, `${name}.new`), join(dir, name));
  };

  test("a renewed certificate and CA bundle reach new sessions; broken files keep the old ones", async () => {
    await replace("cert.pem", pairs[0]!.cert);
    await replace("key.pem", pairs[0]!.key);
    await replace("partners.pem", partnerA.cert);
    await start(
      fileTlsSource({ certPath: join(dir, "cert.pem"), keyPath: join(dir, "key.pem") }, dir),
    );
    await reloadStory({
      async pair(p) {
        await replace("key.pem", p.key);
        await replace("cert.pem", p.cert);
      },
      // The certificate renewed, its key not yet written: a pair that does not match.
      brokenPair: () => replace("cert.pem", pairs[2]!.cert),
      bundle: (pem) => replace("partners.pem", pem),
    });
  });
});

describe("AWS: the Secrets Manager secret", () => {
  let fake: Awaited<ReturnType<typeof startSecretsManagerFake>>;
  let client: SecretsManagerClient;
  const secrets = new Map<string, string>();
  beforeAll(async () => {
    fake = await startSecretsManagerFake(secrets);
    client = new SecretsManagerClient({
      endpoint: fake.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
  });
  afterAll(async () => {
    client.destroy();
    await fake.stop();
  });
  afterEach(() => secrets.clear());

  test("a rotated secret and CA bundle secret reach new sessions; a bad version keeps the old ones", async () => {
    const json = (p: { cert: string; key: string }) => JSON.stringify({ cert: p.cert, key: p.key });
    secrets.set("connectorrelay/tls", json(pairs[0]!));
    secrets.set("connectorrelay/tls/partners.pem", partnerA.cert);
    // The listener's store as in AWS, with a cache shorter than the test's reload interval.
    const store = new SecretsManagerStore({ client, prefix: "connectorrelay/", cacheTtlMs: 50 });
    await start(secretTlsSource(store, "tls"));
    await reloadStory({
      pair: async (p) => void secrets.set("connectorrelay/tls", json(p)),
      brokenPair: async () =>
        void secrets.set("connectorrelay/tls", json({ cert: pairs[2]!.cert, key: pairs[1]!.key })),
      bundle: async (pem) => void secrets.set("connectorrelay/tls/partners.pem", pem),
    });
  });
});
