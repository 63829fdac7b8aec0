// `--stack NAME` as a child process: names from a DescribeStacks stand-in, then the AWS emulators behind them; an unknown stack refused.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DynamoRecordStore } from "#adapters/aws/dynamodb-records.ts";
import { SqsQueue } from "#adapters/aws/sqs.ts";
import { type AwsEmulators, endpointOf, startAwsEmulators } from "#test/support/aws-emulators.ts";
import { runCli } from "#test/support/cli.ts";
import {
  type CloudFormationStandIn,
  startCloudFormationStandIn,
} from "#test/support/cloudformation-standin.ts";
import { type PrintedDnsRecord, publish } from "#test/support/dkim.ts";
import { startDnsServer, type TestDnsServer } from "#test/support/dns-server.ts";
import { createServerCertificate, createTestCa } from "#test/support/tls.ts";

let emu: AwsEmulators;
let cfn: CloudFormationStandIn;
let dns: TestDnsServer;
let home: string;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startAwsEmulators();
  home = await mkdtemp(join(tmpdir(), "relay-cli-stack-"));
  await emu.createRecordTable("relay-records");
  await emu.createTrackingTable("relay-tracking");
  await emu.createBucket("relay-bodies");
  const sub = await emu.createQueue({ name: "relay-submission", maxReceiveCount: 5 });
  const del = await emu.createQueue({ name: "relay-delivery", maxReceiveCount: 5 });
  const sqsEndpoint = await endpointOf(emu.sqs);
  const local = (url: string | undefined) => (url ?? "").replace(/^http:\/\/[^/]+/, sqsEndpoint);
  // One message in the delivery DLQ: the Poison queue's count must come from the stack's DLQ output.
  await new SqsQueue<unknown>({ client: emu.sqs, queueUrl: del.dlqUrl as string }).send({
    jobId: "x",
  });
  // The outputs as infra/stack.ts names them (test/unit/infra-outputs.test.ts ties the two).
  cfn = await startCloudFormationStandIn({
    Relay: {
      RecordTable: "relay-records",
      TrackingTable: "relay-tracking",
      SubmissionQueueUrl: local(sub.url),
      DeliveryQueueUrl: local(del.url),
      SubmissionDlqUrl: local(sub.dlqUrl),
      DeliveryDlqUrl: local(del.dlqUrl),
      BodyBucket: "relay-bodies",
      SecretPrefix: "relay/",
      EgressIp1: "203.0.113.5",
      SmtpEndpoint: "relay-nlb.elb.us-east-1.amazonaws.com",
    },
  });
  dns = await startDnsServer({
    "5.113.0.203.in-addr.arpa": { PTR: ["relay.contoso.com"] },
    "relay.contoso.com": { A: ["203.0.113.5"] },
  });
  const ca = await createTestCa();
  const cert = await createServerCertificate(["relay.contoso.com"], ca);
  emu.secrets.set("relay/tls", JSON.stringify(cert));
  // An admin's shell: credentials and region, endpoints (here the emulators); no RELAY_* names.
  env = {
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
    AWS_MAX_ATTEMPTS: "1",
    AWS_ENDPOINT_URL_CLOUDFORMATION: cfn.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: await endpointOf(emu.dynamo),
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    AWS_ENDPOINT_URL_S3: await endpointOf(emu.s3),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: await endpointOf(emu.secretsManager),
  };
}, 30_000);

afterAll(async () => {
  await cfn?.close();
  await dns?.close();
  await emu?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

const relay = (args: string[]) => runCli(args, { home, env });

describe("--stack", () => {
  test("relay queue get --aws --stack Relay reads the queue names from the stack's outputs", async () => {
    const r = await relay(["queue", "get", "--aws", "--stack", "Relay", "--json"]);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    const queues = JSON.parse(r.stdout) as Array<{ identity: string; messageCount: number }>;
    expect(queues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ identity: "Submission", messageCount: 0 }),
        expect.objectContaining({ identity: "Poison", messageCount: 1 }),
      ]),
    );
    const asked = cfn.requests.at(-1);
    expect(asked?.get("Action")).toBe("DescribeStacks");
    expect(asked?.get("StackName")).toBe("Relay");
  }, 60_000);

  test("record verbs write the stack's record table; --stack alone implies --aws", async () => {
    const created = await relay([
      "accepted-domain",
      "new",
      "--stack",
      "Relay",
      "--domain",
      "contoso.com",
    ]);
    expect(created, created.stderr).toMatchObject({ code: 0 });
    const store = new DynamoRecordStore({ client: emu.dynamo, tableName: "relay-records" });
    expect(await store.get("AcceptedDomain", "contoso.com")).toMatchObject({
      domain: "contoso.com",
    });
    // Nothing was written locally.
    const listed = await runCli(["accepted-domain", "get", "--json"], { home, env });
    expect(JSON.parse(listed.stdout)).toEqual([]);
  }, 60_000);

  test("doctor --stack takes the egress IPs and the listener's certificate from the stack", async () => {
    const r = await relay([
      "doctor",
      "--stack",
      "Relay",
      "--json",
      "--dns-servers",
      dns.address,
      "--timeout",
      "1",
    ]);
    const report = JSON.parse(r.stdout) as {
      findings: Array<{ check: string; subject: string; status: string; detail: string }>;
    };
    expect(report.findings.find((f) => f.check === "ptr")).toMatchObject({
      subject: "203.0.113.5",
      status: "OK",
    });
    expect(report.findings.find((f) => f.check === "tls")).toMatchObject({
      subject: "secret <prefix>tls",
      status: "OK",
    });
    expect(report.findings.find((f) => f.check === "dead-letters")).toMatchObject({
      status: "WARN",
      detail: expect.stringMatching(/^1 message/),
    });
  }, 60_000);

  test("doctor --stack checks DKIM against the record table and Secrets Manager", async () => {
    const made = await relay([
      "dkim-signing-config",
      "new",
      "--stack",
      "Relay",
      "--domain",
      "tailspin.test",
      "--json",
    ]);
    expect(made, made.stderr).toMatchObject({ code: 0 });
    const { config } = JSON.parse(made.stdout) as {
      config: { selector: string; dnsRecords: PrintedDnsRecord[] };
    };
    publish(dns, config.dnsRecords);
    const dkimOf = async () => {
      const r = await relay(["doctor", "--stack", "Relay", "--json", "--dns-servers", dns.address]);
      const { findings } = JSON.parse(r.stdout) as {
        findings: Array<{ check: string; subject: string; status: string; detail: string }>;
      };
      return findings.find((f) => f.check === "dkim" && f.subject === "tailspin.test");
    };
    expect(await dkimOf()).toMatchObject({ status: "OK" });
    const secretName = `relay/dkim/tailspin.test/${config.selector}`;
    expect(emu.secrets.delete(secretName)).toBe(true);
    expect(await dkimOf()).toMatchObject({
      status: "FAIL",
      detail: expect.stringContaining(
        `secret dkim/tailspin.test/${config.selector} cannot be read`,
      ),
    });
  }, 60_000);

  test("an unknown stack is refused with exit 2 naming --stack", async () => {
    const r = await relay(["queue", "get", "--stack", "Nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--stack: stack "Nope" does not exist in us-east-1/);
    const bad = await relay(["queue", "get", "--stack", "no such name"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--stack: "no such name" is not a stack name/);
  }, 60_000);
});
