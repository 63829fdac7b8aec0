// Local mode's deliver worker applies MTA-STS with the policy cached in SQLite beside tracking (the pipeline as local mode runs it).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { LocalMtaStsPolicyStore } from "#adapters/local/mta-sts-store.ts";
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { newMessageId } from "#core/ids.ts";
import { SILENT_LOG } from "#core/log.ts";
import { relayHome } from "#local/home.ts";
import { type Pipeline, startPipeline } from "#local/pipeline.ts";
import { startSecureDns, type TestSecureDns } from "#test/support/dnssec-server.ts";
import {
  policyText,
  startPolicyServer,
  type TestPolicyServer,
} from "#test/support/mta-sts-server.ts";
import { waitFor } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import { createServerCertificate, createTestCa } from "#test/support/tls.ts";

let root: string;
let dns: TestSecureDns;
let policies: TestPolicyServer;
let mx: Sink;
let pipeline: Pipeline;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "relay-local-sts-"));
  const ca = await createTestCa();
  policies = await startPolicyServer(await createServerCertificate(["mta-sts.fabrikam.test"], ca));
  policies.replies.set("mta-sts.fabrikam.test", {
    body: policyText("enforce", ["*.fabrikam.test"]),
  });
  mx = await startSink({
    host: "127.0.0.7",
    tls: await createServerCertificate(["mx1.fabrikam.test"], ca),
  });
  dns = await startSecureDns({
    "fabrikam.test": { MX: [{ exchange: "mx1.fabrikam.test", priority: 10 }] },
    "mx1.fabrikam.test": { A: ["127.0.0.7"] },
    "_mta-sts.fabrikam.test": { TXT: ["v=STSv1; id=local1"] },
    "mta-sts.fabrikam.test": { A: ["127.0.0.1"] },
  });
  const home = relayHome(root);
  await new LocalRecordStore(home.records).put({
    kind: "SendConnector",
    name: "To Internet",
    addressSpaces: [{ domain: "*", cost: 1 }],
    port: mx.port,
    externalDnsServers: [dns.address],
  });
  pipeline = await startPipeline(
    {
      home,
      hostName: "relay.test",
      smtpCa: ca.cert,
      smtpTimeoutMs: 5000,
      mtaStsFetch: { ca: [ca.cert], port: policies.port },
    },
    SILENT_LOG,
  );
});

afterAll(async () => {
  await pipeline.stop();
  await Promise.all([mx.close(), dns.close(), policies.close()]);
  await rm(root, { recursive: true, force: true });
});

test("delivered over TLS to the listed MX; the row says MTA-STS enforce; the policy is in the local cache", async () => {
  const id = newMessageId(new Date());
  const raw = Buffer.from(
    `From: <app@contoso.test>\r\nTo: <ann@fabrikam.test>\r\nSubject: s\r\n\r\nHello.\r\n`,
  );
  await pipeline.submission.send({
    id,
    receivedAt: new Date().toISOString(),
    envelope: { mailFrom: "app@contoso.test", rcptTo: ["ann@fabrikam.test"] },
    size: raw.byteLength,
    body: { inline: raw.toString("base64") },
    origin: {
      type: "smtp",
      receiveConnector: "Default",
      clientIp: "127.0.0.1",
      clientHelo: "app",
      tls: false,
    },
  });
  const tracking = new LocalTrackingStore(relayHome(root).tracking);
  await waitFor(
    "the recipient delivered",
    async () => (await tracking.get(id, "ann@fabrikam.test"))?.status === "Delivered",
    15_000,
  );
  expect((await tracking.get(id, "ann@fabrikam.test"))?.tlsPolicy).toBe(
    "MTA-STS enforce: policy id local1 of fabrikam.test lists mx1.fabrikam.test",
  );
  expect(mx.received.at(-1)).toMatchObject({ rcptTo: ["ann@fabrikam.test"], secure: true });
  const cache = new LocalMtaStsPolicyStore(relayHome(root).tracking);
  expect(await cache.get("fabrikam.test")).toMatchObject({
    id: "local1",
    mode: "enforce",
    mx: ["*.fabrikam.test"],
  });
  cache.close();
  tracking.close();
});
