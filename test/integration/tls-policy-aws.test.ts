// The deliver function's MX TLS policy as AWS wires it: two invocations (two wirings from the environment) share one MTA-STS cache in DynamoDB.
import { afterAll, beforeAll, expect, test } from "vitest";
import { deliverDepsFromEnv } from "#adapters/aws/deliver-deps.ts";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { SILENT_LOG } from "#core/log.ts";
import { SendConnectorSchema } from "#core/records/send-connector.ts";
import { policedTargets } from "#core/usecases/tls-targets.ts";
import { type AwsEmulators, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { startSecureDns, type TestSecureDns } from "#test/support/dnssec-server.ts";
import {
  policyText,
  startPolicyServer,
  type TestPolicyServer,
} from "#test/support/mta-sts-server.ts";
import { createServerCertificate, createTestCa } from "#test/support/tls.ts";

let emu: AwsEmulators;
let dns: TestSecureDns;
let policies: TestPolicyServer;
let ca: string;

beforeAll(async () => {
  emu = await startAwsEmulators();
  await emu.createTrackingTable("relay-tracking");
  const testCa = await createTestCa();
  ca = testCa.cert;
  policies = await startPolicyServer(
    await createServerCertificate(["mta-sts.fabrikam.test"], testCa),
  );
  policies.replies.set("mta-sts.fabrikam.test", {
    body: policyText("enforce", ["mx1.fabrikam.test"]),
  });
  dns = await startSecureDns({
    "_mta-sts.fabrikam.test": { TXT: ["v=STSv1; id=aws1"] },
    "mta-sts.fabrikam.test": { A: ["127.0.0.1"] },
  });
});

afterAll(async () => {
  await Promise.all([dns.close(), policies.close()]);
  await emu.stop();
});

// Only the tracking table is used here; the other names satisfy the environment check.
const env = {
  [RELAY_ENV.submissionQueueUrl]: "http://127.0.0.1:1/queue/submission",
  [RELAY_ENV.deliveryQueueUrl]: "http://127.0.0.1:1/queue/delivery",
  [RELAY_ENV.bodyBucket]: "relay-bodies",
  [RELAY_ENV.recordTable]: "relay-records",
  [RELAY_ENV.trackingTable]: "relay-tracking",
  [RELAY_ENV.secretPrefix]: "connectorrelay/",
};

test("the second invocation uses the policy the first fetched; only MX hosts it lists are kept", async () => {
  const connector = SendConnectorSchema.parse({
    kind: "SendConnector",
    name: "To Internet",
    addressSpaces: [{ domain: "*" }],
    externalDnsServers: [dns.address],
  });
  const targets = [
    { host: "mx1.fabrikam.test", address: "192.0.2.1", port: 25 },
    { host: "mx9.elsewhere.test", address: "192.0.2.9", port: 25 },
  ];
  const invocation = () =>
    deliverDepsFromEnv(SILENT_LOG, env, emu, {
      writeMetrics: () => {},
      mtaStsFetch: { ca: [ca], port: policies.port },
    }).deps;
  const first = await policedTargets(invocation(), connector, "fabrikam.test", targets);
  const second = await policedTargets(invocation(), connector, "fabrikam.test", targets);
  for (const d of [first, second])
    expect(d.ok && d.targets.map((t) => [t.host, t.tlsPolicy])).toEqual([
      [
        "mx1.fabrikam.test",
        "MTA-STS enforce: policy id aws1 of fabrikam.test lists mx1.fabrikam.test",
      ],
    ]);
  expect(policies.requests).toEqual(["mta-sts.fabrikam.test /.well-known/mta-sts.txt"]);
});
