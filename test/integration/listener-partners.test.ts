// Partners over real mutual TLS: a partner's client certificate earns relay, anything else stays anonymous (STARTTLS and 465).
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { TlsSource } from "#listener/tls.ts";
import {
  acceptedDomain,
  receiveConnector,
  testPki,
  useTestListener,
} from "#test/support/listener.ts";
import {
  createClientCertificate,
  createTestCa,
  type TestCa,
  type TestCertificate,
} from "#test/support/tls.ts";

const run = promisify(execFile);
const DAY = 24 * 3600 * 1000;
const h = useTestListener();

let partnerCa: TestCa;
const certs: Record<string, TestCertificate> = {};
let dir: string;

beforeAll(async () => {
  partnerCa = await createTestCa("Fabrikam partner CA");
  const rogueCa = await createTestCa("Someone else's CA");
  certs.valid = await createClientCertificate(partnerCa, { names: ["mail.fabrikam.com"] });
  certs.cnOnly = await createClientCertificate(partnerCa, { commonName: "fabrikam.com" });
  certs.wrongCa = await createClientCertificate(rogueCa, { names: ["mail.fabrikam.com"] });
  certs.expired = await createClientCertificate(partnerCa, {
    names: ["mail.fabrikam.com"],
    notBefore: new Date(Date.now() - 400 * DAY),
    notAfter: new Date(Date.now() - 30 * DAY),
  });
  certs.wrongDomain = await createClientCertificate(partnerCa, { names: ["mail.northwind.com"] });
  dir = await mkdtemp(join(tmpdir(), "listener-partners-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Exchange's domain-secured partner connector: anonymous as usual, relay for Fabrikam's servers. */
const partnerFields = {
  permissionGroups: ["AnonymousUsers", "Partners"],
  grantedPermissions: ["Partners:AcceptAnyRecipient"],
  partnerDomains: ["fabrikam.com", "*.fabrikam.com"],
  tlsClientCaBundle: "fabrikam-ca.pem",
};

async function start() {
  const { cert } = await testPki();
  const source: TlsSource = {
    label: "test",
    certificate: async () => cert,
    caBundle: async (name) => {
      if (name !== "fabrikam-ca.pem") throw new Error(`no bundle ${name}`);
      return partnerCa.cert;
    },
  };
  return h.start(
    [
      receiveConnector("Partner", { bindings: ["127.0.0.1:25"], ...partnerFields }),
      receiveConnector("Partner TLS", {
        bindings: ["127.0.0.1:465"],
        implicitTls: true,
        ...partnerFields,
      }),
      acceptedDomain("contoso.com"),
    ],
    {},
    { tlsSource: source },
  );
}

/** nodemailer as the partner's server: STARTTLS on 25 or implicit TLS on 465, with a client certificate. */
async function send(binding: string, cert: TestCertificate | undefined) {
  const implicit = binding.endsWith(":465");
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: h.t.port(binding),
    secure: implicit,
    requireTLS: !implicit,
    name: "mail.fabrikam.com",
    tls: {
      ca: h.t.ca,
      servername: "localhost",
      ...(cert ? { cert: cert.cert, key: cert.key } : {}),
    },
  });
  try {
    return await transport.sendMail({
      envelope: { from: "orders@fabrikam.com", to: ["buyer@tailspintoys.com"] },
      raw: "From: orders@fabrikam.com\r\nTo: buyer@tailspintoys.com\r\nSubject: PO 4711\r\n\r\nhi\r\n",
    });
  } finally {
    transport.close();
  }
}

const decisions = () =>
  h.t.logs.filter((l) => /^client certificate/.test(l.message)).map((l) => l.fields);

describe.each(["127.0.0.1:25", "127.0.0.1:465"])("partner connector on %s", (binding) => {
  const connector = binding.endsWith(":465") ? "Partner TLS" : "Partner";

  test.each([
    ["valid", "mail.fabrikam.com", "*.fabrikam.com"],
    ["cnOnly", "fabrikam.com", "fabrikam.com"],
  ])("a %s partner certificate relays to a non-accepted domain", async (which, name, domain) => {
    await start();
    const info = await send(binding, certs[which]);
    expect(info.accepted).toEqual(["buyer@tailspintoys.com"]);
    expect(h.t.queue.peek()[0]?.body.origin).toMatchObject({
      receiveConnector: connector,
      tls: true,
    });
    expect(decisions()).toEqual([
      expect.objectContaining({
        connector,
        partner: name,
        partnerDomain: domain,
        client: "127.0.0.1",
      }),
    ]);
    expect(
      h.t.logs.find((l) => l.message === "client certificate accepted: Partners"),
    ).toBeTruthy();
  });

  test.each([
    ["wrongCa", /did not verify against tlsClientCaBundle \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/],
    ["expired", /did not verify against tlsClientCaBundle \(CERT_HAS_EXPIRED\)/],
    ["wrongDomain", /certificate names mail\.northwind\.com, none in partnerDomains/],
    ["none", /^no client certificate$/],
  ])("%s: the session goes on as anonymous and relay is refused 550 5.7.54", async (which, why) => {
    await start();
    const error = (await send(binding, certs[which]).catch((e: unknown) => e)) as {
      response?: string;
      responseCode?: number;
    };
    expect(error.responseCode).toBe(550);
    expect(error.response).toMatch(/^550 5\.7\.54 /);
    expect(h.t.queue.size).toBe(0);
    const logged = decisions();
    expect(logged).toHaveLength(1);
    expect(String(logged[0]?.why)).toMatch(why);
    expect(
      h.t.logs.find((l) => l.message === "client certificate not accepted: anonymous"),
    ).toBeTruthy();
  });
});

test("a partner still reaches accepted domains without the certificate counting against it", async () => {
  await start();
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: h.t.port("127.0.0.1:25"),
    requireTLS: true,
    tls: {
      ca: h.t.ca,
      servername: "localhost",
      cert: certs.wrongCa!.cert,
      key: certs.wrongCa!.key,
    },
  });
  const info = await transport.sendMail({
    envelope: { from: "orders@fabrikam.com", to: ["sales@contoso.com"] },
    raw: "Subject: hello\r\n\r\nhi\r\n",
  });
  transport.close();
  expect(info.accepted).toEqual(["sales@contoso.com"]);
});

test("swaks with --tls-cert: a partner relays, another domain's certificate gets 550 5.7.54", async () => {
  await start();
  const files = async (name: string, c: TestCertificate) => {
    await writeFile(join(dir, `${name}.crt`), c.cert);
    await writeFile(join(dir, `${name}.key`), c.key);
    return ["--tls-cert", join(dir, `${name}.crt`), "--tls-key", join(dir, `${name}.key`)];
  };
  const swaks = async (certArgs: string[]) =>
    run(
      "swaks",
      [
        ...["--server", "127.0.0.1", "--port", String(h.t.port("127.0.0.1:25"))],
        ...["--ehlo", "mail.fabrikam.com", "--tls", ...certArgs],
        ...["--from", "orders@fabrikam.com", "--to", "buyer@tailspintoys.com"],
      ],
      { timeout: 20_000 },
    ).catch((e: { stdout: string; code: number }) => e);
  const ok = await swaks(await files("valid", certs.valid!));
  expect(ok.stdout).toMatch(/<~ {2}250 2\.6\.0 <[^>]+> Queued mail for delivery/);
  const refused = await swaks(await files("wrong-domain", certs.wrongDomain!));
  expect(refused.stdout).toContain("<~* 550 5.7.54 ");
  expect(h.t.queue.size).toBe(1);
});
