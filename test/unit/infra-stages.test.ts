// Stages and command-line context: one app, a stack per stage with its own settings; bad context fails naming the key.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { resolveSettings } from "#infra/context.ts";
import { committedContext, synthRelay } from "./infra-app.ts";

const root = join(import.meta.dirname, "..", "..");
type Cfn = ReturnType<typeof JSON.parse>;

describe("stages from one app", () => {
  const dev = synthRelay({ stage: "dev" });
  const prod = synthRelay({ stage: "prod" });
  const count = (t: typeof dev.template, type: string) => Object.keys(t.findResources(type)).length;

  test("each stage is its own stack, named after the stage and tagged with it", () => {
    expect(dev.stack.stackName).toBe("ConnectorRelay-dev");
    expect(prod.stack.stackName).toBe("ConnectorRelay-prod");
    expect(dev.stack.tags.tagValues()).toMatchObject({ "connector-relay:stage": "dev" });
    expect(prod.stack.tags.tagValues()).toMatchObject({ "connector-relay:stage": "prod" });
  });

  test("each stage has its own settings: dev's overrides, prod's defaults", () => {
    const env = (t: typeof dev.template) => {
      const fn = Object.entries(t.findResources("AWS::Lambda::Function")).find(([id]) =>
        id.startsWith("Deliver"),
      )![1] as Cfn;
      return fn.Properties.Environment.Variables;
    };
    expect(env(dev.template).RELAY_HOST_NAME).toBe("relay-dev.example.com");
    expect(env(prod.template).RELAY_HOST_NAME).toBe("relay.example.com");
    // Secrets are per stage too: neither stage reads the other's credentials.
    expect(env(dev.template).RELAY_SECRET_PREFIX).toBe("connectorrelay-dev/");
    expect(env(prod.template).RELAY_SECRET_PREFIX).toBe("connectorrelay-prod/");
    expect(count(dev.template, "AWS::EC2::EIP")).toBe(1);
    expect(count(prod.template, "AWS::EC2::EIP")).toBe(2);
    dev.template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      MinCapacity: 1,
    });
    prod.template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      MinCapacity: 2,
    });
  });
});

describe("what `cdk destroy` keeps", () => {
  test("tables, the body bucket, EIPs and the listener's and functions' logs are retained; queues, flow logs and the alarm key go", () => {
    const resources = Object.entries(
      synthRelay({ stage: "prod" }).template.toJSON().Resources as Record<string, Cfn>,
    );
    const policies = (type: string, idPrefix = "") =>
      resources
        .filter(([id, r]) => r.Type === type && id.startsWith(idPrefix))
        .map(([, r]) => r.DeletionPolicy ?? "Delete");
    expect(policies("AWS::DynamoDB::Table", "StorageRecords")).toEqual(["Retain"]);
    expect(policies("AWS::DynamoDB::Table", "StorageTracking")).toEqual(["Retain"]);
    // Rate counts and lockouts last minutes: nothing in the Limits table is worth keeping.
    expect(policies("AWS::DynamoDB::Table", "StorageLimits")).toEqual(["Delete"]);
    expect(policies("AWS::S3::Bucket")).toEqual(["Retain"]);
    expect(policies("AWS::EC2::EIP")).toEqual(["Retain", "Retain"]);
    for (const prefix of ["Listener", "Route", "Deliver"])
      expect(policies("AWS::Logs::LogGroup", prefix), prefix).toEqual(["Retain"]);
    expect(policies("AWS::Logs::LogGroup", "Network")).toEqual(["Delete"]);
    expect(new Set(policies("AWS::SQS::Queue"))).toEqual(new Set(["Delete"]));
    expect(policies("AWS::KMS::Key")).toEqual(["Delete"]);
  });
});

describe("command-line context (-c)", () => {
  const committed = committedContext();
  const resolve = (cli: Record<string, string>) => resolveSettings({ ...committed, ...cli });

  test("-c relay.<setting>=<value> overrides the stage, typed by the setting (numbers, booleans, JSON arrays)", () => {
    const { config, stage } = resolve({
      stage: "dev",
      "relay.listener.minTasks": "2",
      "relay.mxDeliveryEnabled": "false",
      "relay.domains": '["contoso.com"]',
      "relay.hostName": "mail-out.contoso.com",
    });
    expect(stage).toBe("dev");
    expect(config.listener.minTasks).toBe(2);
    expect(config.listener.maxTasks).toBe(6);
    expect(config.mxDeliveryEnabled).toBe(false);
    expect(config.domains).toEqual(["contoso.com"]);
    expect(config.hostName).toBe("mail-out.contoso.com");
    expect(config.natGateways).toBe(1);
  });

  test("-c relay='{...}' replaces cdk.json's shared settings, as CDK replaces a context key; the stage still applies", () => {
    const { config } = resolve({
      stage: "prod",
      relay: '{"stackName":"Relay","hostName":"a.example"}',
    });
    expect(config.stackName).toBe("Relay-prod");
    expect(config.hostName).toBe("a.example");
    expect(resolve({ stage: "prod", "relay.stackName": "MailRelay" }).config.stackName).toBe(
      "MailRelay",
    );
  });

  test.each([
    [
      { stage: "prd" },
      /context "stage": unknown stage "prd"; cdk.json's "stages" defines dev, prod/,
    ],
    [{ stage: "" }, /context "stage" is not set: choose one of dev, prod/],
    [
      { stage: "dev", "relay.natGateways": "abc" },
      /relay\.natGateways: .*number.*\(from -c relay\.natGateways=abc\)/,
    ],
    [
      { stage: "dev", "relay.listener.minTasks": "9" },
      /relay\.listener\.minTasks: minTasks exceeds maxTasks \(from -c relay\.listener\.minTasks=9\)/,
    ],
    [
      { stage: "dev", "relay.natGatways": "1" },
      /relay\.\(root\): .*natGatways.*\(from -c relay\.natGatways=1\)/,
    ],
    [
      { stage: "dev", relay: "natGateways=1" },
      /context "relay" must be an object.*-c relay\.natGateways=1/,
    ],
    [
      { stage: "dev", "relay.stackName": "" },
      /relay\.stackName: a CloudFormation stack name.*\(from -c relay\.stackName=\)/,
    ],
    [{ stage: "dev", "relay..x": "1" }, /context "relay\.\.x": not a setting path/],
    [
      { stage: "dev", "relay.__proto__.x": "1" },
      /context "relay\.__proto__\.x": not a setting path/,
    ],
  ])("bad context %o fails with a message naming the key", (cli, message) => {
    expect(() => resolve(cli as Record<string, string>)).toThrow(message);
  });

  test("a stage's bad setting names the stage it came from", () => {
    const stages = { dev: { natGateways: 3 } };
    expect(() => resolveSettings({ relay: {}, stages, stage: "dev" })).toThrow(
      /relay\.natGateways: .*\(from stage "dev"\)/,
    );
  });

  test("`cdk synth` with a bad -c value exits non-zero with the key named, before building anything", () => {
    const out = mkdtempSync(join(tmpdir(), "relay-cdk-cli-"));
    const run = spawnSync(
      join(root, "node_modules", ".bin", "cdk"),
      [
        "synth",
        "--quiet",
        "--no-notices",
        "--no-version-reporting",
        "-o",
        out,
        "-c",
        "stage=dev",
        "-c",
        "relay.listener.cpu=lots",
      ],
      { cwd: root, encoding: "utf8", timeout: 120_000 },
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("relay.listener.cpu: ");
    expect(run.stderr).toContain("(from -c relay.listener.cpu=lots)");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
