// The MTA-STS policy fetch keeps RFC 8461 §3.3's limits against a loopback HTTPS server: trusted CA, no redirects, size, type, timeout.
import { afterAll, beforeAll, expect, test } from "vitest";
import { NetworkTlsPolicyLookups } from "#adapters/tls-policy/lookups.ts";
import { startSecureDns, type TestSecureDns } from "#test/support/dnssec-server.ts";
import {
  policyText,
  startPolicyServer,
  type TestPolicyServer,
} from "#test/support/mta-sts-server.ts";
import { createServerCertificate, createTestCa, type TestCa } from "#test/support/tls.ts";

let ca: TestCa;
let dns: TestSecureDns;
let server: TestPolicyServer;
const NAMES = ["ok", "redirect", "html", "huge", "missing", "slow"].map((n) => `${n}.test`);

beforeAll(async () => {
  ca = await createTestCa();
  server = await startPolicyServer(
    await createServerCertificate(
      NAMES.map((d) => `mta-sts.${d}`),
      ca,
    ),
  );
  dns = await startSecureDns(
    Object.fromEntries(NAMES.map((d) => [`mta-sts.${d}`, { A: ["127.0.0.1"] }])),
  );
  server.replies.set("mta-sts.ok.test", { body: policyText("enforce", ["mx.ok.test"]) });
  server.replies.set("mta-sts.redirect.test", {
    status: 301,
    headers: { location: "https://mta-sts.ok.test/.well-known/mta-sts.txt" },
  });
  server.replies.set("mta-sts.html.test", { contentType: "text/html", body: "<p>hi</p>" });
  server.replies.set("mta-sts.huge.test", {
    body: `${policyText("enforce", ["a.b"])}${"x".repeat(70_000)}`,
  });
});

afterAll(async () => {
  await Promise.all([dns.close(), server.close()]);
});

const lookups = (options: { ca?: string[]; timeoutMs?: number } = {}) =>
  new NetworkTlsPolicyLookups({ fetch: { ca: [ca.cert], port: server.port, ...options } });

test("a valid policy over HTTPS from a trusted CA is returned as text, the policy host resolved through the given DNS server", async () => {
  const r = await lookups().fetchMtaStsPolicy("ok.test", [dns.address]);
  expect(r).toEqual({ ok: true, text: policyText("enforce", ["mx.ok.test"]) });
  expect(dns.queries).toContain("A mta-sts.ok.test");
});

test.each([
  ["redirect.test", "HTTP 301 (redirects are not followed)"],
  ["html.test", 'content-type "text/html", not text/plain'],
  ["huge.test", "larger than 65536 bytes"],
  ["missing.test", "HTTP 404"],
])("%s is refused: %s", async (domain, reason) => {
  const r = await lookups().fetchMtaStsPolicy(domain, [dns.address]);
  expect(r.ok).toBe(false);
  expect(r.ok ? "" : r.reason).toContain(reason);
});

test("a certificate from a CA the relay does not trust is refused", async () => {
  const other = await createTestCa("someone else");
  const r = await lookups({ ca: [other.cert] }).fetchMtaStsPolicy("ok.test", [dns.address]);
  expect(r.ok).toBe(false);
  expect(r.ok ? "" : r.reason).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/i);
});

test("the fetch ends at its timeout instead of waiting on the policy host", async () => {
  dns.set("mta-sts.slow.test", { A: ["127.0.0.1"] });
  const r = await new NetworkTlsPolicyLookups({
    // 1 ms cannot cover DNS, TCP and TLS on any machine: the limit, not the server, ends the fetch.
    fetch: { ca: [ca.cert], port: server.port, timeoutMs: 1 },
  }).fetchMtaStsPolicy("slow.test", [dns.address]);
  expect(r.ok ? "" : r.reason).toContain("no answer within 1 ms");
});
