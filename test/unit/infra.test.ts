// Template tests of the CDK stack: the security- and reliability-relevant properties, not a snapshot.
import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, test } from "vitest";
import { parseConfig } from "#infra/config.ts";
import { type Cfn, type Resources, synthRelay, viewOf } from "./infra-app.ts";

let s: ReturnType<typeof viewOf>;
beforeAll(() => {
  s = viewOf(synthRelay());
});
const ofType = (type: string) => s.ofType(type);
const only = (type: string, idPrefix = "") => s.only(type, idPrefix);

describe("queues", () => {
  test("submission and delivery queues redrive to DLQs after maxReceiveCount 5", () => {
    const queues = ofType("AWS::SQS::Queue");
    expect(queues).toHaveLength(4);
    const withDlq = queues.filter(([, q]) => q.Properties.RedrivePolicy);
    expect(withDlq).toHaveLength(2);
    for (const [, q] of withDlq) expect(q.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
  });

  test("every queue is encrypted (SSE) and keeps messages 14 days", () => {
    for (const [, q] of ofType("AWS::SQS::Queue")) {
      expect(q.Properties.SqsManagedSseEnabled).toBe(true);
      expect(q.Properties.MessageRetentionPeriod).toBe(14 * 86_400);
    }
  });

  test("every queue's policy denies requests without TLS", () => {
    const policies = ofType("AWS::SQS::QueuePolicy");
    const covered = new Set<string>();
    for (const [, p] of policies) {
      const denies = p.Properties.PolicyDocument.Statement.filter(
        (s: Cfn) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false",
      );
      expect(denies.length).toBeGreaterThan(0);
      for (const q of p.Properties.Queues) covered.add(q.Ref);
    }
    expect([...covered].sort()).toEqual(
      ofType("AWS::SQS::Queue")
        .map(([id]) => id)
        .sort(),
    );
  });

  test("visibility timeout is six times the consuming function's timeout", () => {
    const fns = Object.fromEntries(
      ofType("AWS::Lambda::Function")
        .filter(([, f]) => f.Properties.Runtime === "nodejs24.x")
        .map(([id, f]) => [id, f.Properties.Timeout as number]),
    );
    for (const [, m] of ofType("AWS::Lambda::EventSourceMapping")) {
      const fnTimeout = fns[m.Properties.FunctionName.Ref]!;
      const queueId = m.Properties.EventSourceArn["Fn::GetAtt"][0];
      const queue = s.resources[queueId]!.Properties;
      expect(queue.VisibilityTimeout).toBe(6 * fnTimeout);
    }
  });
});

describe("functions", () => {
  test("route and deliver run Node 24 on arm64, bundled as ESM", () => {
    const fns = ofType("AWS::Lambda::Function").filter(([id]) => /^(Route|Deliver)/.test(id));
    expect(fns).toHaveLength(2);
    for (const [, f] of fns) {
      expect(f.Properties.Runtime).toBe("nodejs24.x");
      expect(f.Properties.Architectures).toEqual(["arm64"]);
      expect(f.Properties.Handler).toBe("index.handler");
      expect(f.Properties.LoggingConfig.LogFormat).toBe("JSON");
    }
  });

  test("each queue feeds its function with partial batch responses and a maximum concurrency", () => {
    const mappings = ofType("AWS::Lambda::EventSourceMapping");
    expect(mappings).toHaveLength(2);
    for (const [, m] of mappings) {
      expect(m.Properties.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
      expect(m.Properties.ScalingConfig.MaximumConcurrency).toBeGreaterThanOrEqual(2);
    }
  });

  test("deliver runs in the private subnets (NAT EIP egress); its security group opens only SMTP, HTTPS and DNS", () => {
    const deliver = only("AWS::Lambda::Function", "Deliver");
    expect(deliver.Properties.VpcConfig.SubnetIds).toHaveLength(2);
    const sg = only("AWS::EC2::SecurityGroup", "DeliverSecurityGroup");
    const ports = sg.Properties.SecurityGroupEgress.map(
      (e: Cfn) => `${e.IpProtocol}/${e.FromPort}`,
    );
    expect(ports.sort()).toEqual([
      "tcp/25",
      "tcp/2525",
      "tcp/443",
      "tcp/465",
      "tcp/53",
      "tcp/587",
      "udp/53",
    ]);
  });

  test("no IAM statement grants a service-wide wildcard action", () => {
    for (const [, p] of ofType("AWS::IAM::Policy")) {
      for (const s of p.Properties.PolicyDocument.Statement) {
        for (const action of [s.Action].flat()) expect(action).not.toMatch(/(^\*$|:\*$)/);
      }
    }
  });
});

describe("network", () => {
  test("two AZs, a NAT gateway per AZ, each on a retained Elastic IP exported as an output", () => {
    const nats = ofType("AWS::EC2::NatGateway");
    expect(nats).toHaveLength(2);
    const eips = ofType("AWS::EC2::EIP");
    expect(eips).toHaveLength(2);
    for (const [, eip] of eips) expect(eip.DeletionPolicy).toBe("Retain");
    const allocations = nats.map(([, n]) => n.Properties.AllocationId["Fn::GetAtt"][0]).sort();
    expect(allocations).toEqual(eips.map(([id]) => id).sort());
    const outputs = s.template.toJSON().Outputs;
    expect(Object.keys(outputs).filter((k) => /^EgressIp\d$/.test(k))).toHaveLength(2);
    expect(outputs.EgressIp1.Value).toEqual({ "Fn::GetAtt": [expect.any(String), "PublicIp"] });
  });

  test("AZs come from the committed context, not a lookup", () => {
    const azs = ofType("AWS::EC2::Subnet").map(([, s]) => s.Properties.AvailabilityZone);
    expect(new Set(azs)).toEqual(new Set(["us-east-1a", "us-east-1b"]));
  });

  test("VPC flow logs are on", () => {
    s.template.resourceCountIs("AWS::EC2::FlowLog", 1);
  });

  test("S3 and DynamoDB traffic uses gateway endpoints, not the NAT gateways", () => {
    const services = ofType("AWS::EC2::VPCEndpoint").map(([, e]) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    expect(services).toHaveLength(2);
    expect(services.some((s) => s.includes(".s3"))).toBe(true);
    expect(services.some((s) => s.includes(".dynamodb"))).toBe(true);
    for (const [, e] of ofType("AWS::EC2::VPCEndpoint"))
      expect(e.Properties.VpcEndpointType).toBe("Gateway");
  });
});

describe("listener", () => {
  test("the NLB listens on TCP 25, 587 and 465", () => {
    const listeners = ofType("AWS::ElasticLoadBalancingV2::Listener").map(
      ([, l]) => `${l.Properties.Protocol}/${l.Properties.Port}`,
    );
    expect(listeners.sort()).toEqual(["TCP/25", "TCP/465", "TCP/587"]);
    s.template.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      Type: "network",
      Scheme: "internet-facing",
    });
  });

  test("targets are task IPs with client IP preservation and an HTTP health check", () => {
    const groups = ofType("AWS::ElasticLoadBalancingV2::TargetGroup");
    expect(groups).toHaveLength(3);
    for (const [, g] of groups) {
      expect(g.Properties.TargetType).toBe("ip");
      expect(g.Properties.TargetGroupAttributes).toContainEqual({
        Key: "preserve_client_ip.enabled",
        Value: "true",
      });
      expect(g.Properties.HealthCheckProtocol).toBe("HTTP");
      expect(g.Properties.HealthCheckPort).toBe("8025");
    }
    expect(groups.map(([, g]) => g.Properties.Port).sort()).toEqual([10025, 10465, 10587]);
  });

  test("the service rolls back failed deployments and scales on CPU", () => {
    s.template.hasResourceProperties("AWS::ECS::Service", {
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
      LaunchType: "FARGATE",
    });
    s.template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      MinCapacity: 2,
      MaxCapacity: 6,
    });
    s.template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      PolicyType: "TargetTrackingScaling",
    });
  });

  test("the task runs on arm64 with a read-only root filesystem and unprivileged ports", () => {
    const task = only("AWS::ECS::TaskDefinition");
    expect(task.Properties.RuntimePlatform.CpuArchitecture).toBe("ARM64");
    const [container] = task.Properties.ContainerDefinitions;
    expect(container.ReadonlyRootFilesystem).toBe(true);
    expect(container.PortMappings.every((p: Cfn) => p.ContainerPort >= 1024)).toBe(true);
    const env = Object.fromEntries(container.Environment.map((e: Cfn) => [e.Name, e.Value]));
    expect(JSON.parse(env.RELAY_BIND_PORTS)).toEqual({ "25": 10025, "587": 10587, "465": 10465 });
  });
});

describe("storage", () => {
  test("tables are on-demand, point-in-time recoverable and encrypted", () => {
    const tables = ofType("AWS::DynamoDB::Table");
    expect(tables).toHaveLength(3);
    for (const [, t] of tables) {
      expect(t.Properties.BillingMode).toBe("PAY_PER_REQUEST");
      expect(t.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(true);
      expect(t.Properties.SSESpecification.SSEEnabled).toBe(true);
    }
    s.template.hasResourceProperties("AWS::DynamoDB::Table", {
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: "active" })]),
    });
  });

  test("the limits table expires counters by TTL; only the listener's task role counts in it, deliver reads and puts its next-hop items", () => {
    const [[id, table]] = ofType("AWS::DynamoDB::Table").filter(([k]) => k.includes("Limits")) as [
      [string, { Properties: Cfn }],
    ];
    expect(table.Properties.KeySchema).toEqual([{ AttributeName: "pk", KeyType: "HASH" }]);
    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: "expiresAt",
      Enabled: true,
    });
    const task = only("AWS::ECS::TaskDefinition");
    const env = task.Properties.ContainerDefinitions[0].Environment;
    expect(env).toContainEqual({ Name: "RELAY_LIMITS_TABLE", Value: { Ref: id } });
    const grants = Object.entries(s.resources)
      .filter(([, r]) => r.Type === "AWS::IAM::Policy")
      .flatMap(([pid, p]) =>
        (p.Properties.PolicyDocument.Statement as Cfn[])
          .filter((st) => JSON.stringify(st.Resource).includes(id))
          .map((st) => ({ policy: pid, actions: [st.Action].flat().sort() })),
      );
    expect(grants).toEqual([
      {
        policy: expect.stringMatching(/^DeliverFunctionServiceRole/),
        actions: ["dynamodb:GetItem", "dynamodb:PutItem"],
      },
      {
        policy: expect.stringMatching(/^ListenerTaskTaskRole/),
        actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
      },
    ]);
    const deliver = ofType("AWS::Lambda::Function").find(([k]) => k.startsWith("Deliver"));
    expect(deliver?.[1].Properties.Environment.Variables.RELAY_LIMITS_TABLE).toEqual({ Ref: id });
  });

  test("the body bucket blocks public access, is encrypted, expires bodies and denies non-TLS requests", () => {
    s.template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.objectLike({}),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 7, Status: "Enabled" })]),
      },
    });
    s.template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });
});

describe("configuration", () => {
  test("conflicting settings fail before any resource is made", () => {
    expect(() => parseConfig({ smartHostOnly: true })).toThrow(/relay\.smartHostOnly/);
    expect(() => parseConfig({ listener: { minTasks: 4, maxTasks: 2 } })).toThrow(/minTasks/);
    expect(() => parseConfig({ natGateways: 2, egressEipAllocationIds: ["eipalloc-1a"] })).toThrow(
      /one allocation id per NAT gateway/,
    );
    expect(() => parseConfig({ retention: { bodyDays: 1 } })).toThrow(/bodyDays/);
    expect(() => parseConfig({ prots: {} })).toThrow(/prots/);
  });

  test("smart-host-only mode closes outbound 25 and tells deliver so", () => {
    const { template: t } = synthRelay({
      relay: { smartHostOnly: true, mxDeliveryEnabled: false },
    });
    const json = t.toJSON().Resources as Resources;
    const sg = Object.entries(json).find(([id]) => id.startsWith("DeliverSecurityGroup"))![1];
    expect(sg.Properties.SecurityGroupEgress.map((e: Cfn) => e.FromPort)).not.toContain(25);
    const deliver = Object.entries(json).find(
      ([id, r]) => id.startsWith("Deliver") && r.Type === "AWS::Lambda::Function",
    )![1];
    expect(deliver.Properties.Environment.Variables).toMatchObject({
      RELAY_MX_DELIVERY_ENABLED: "false",
      RELAY_SMART_HOST_ONLY: "true",
    });
  });

  test("smart hosts on other ports: smartHostPorts sets the deliver function's SMTP egress", () => {
    const { template: t } = synthRelay({ relay: { smartHostPorts: [2587, 10025] } });
    const json = t.toJSON().Resources as Resources;
    const sg = Object.entries(json).find(([id]) => id.startsWith("DeliverSecurityGroup"))![1];
    const tcp = sg.Properties.SecurityGroupEgress.filter((e: Cfn) => e.IpProtocol === "tcp").map(
      (e: Cfn) => e.FromPort,
    );
    expect(tcp.sort((a: number, b: number) => a - b)).toEqual([25, 53, 443, 2587, 10025]);
    expect(() => parseConfig({ smartHostPorts: [25] })).toThrow(/mxDeliveryEnabled/);
  });

  test("each configured domain gets an SPF record naming both egress IPs", () => {
    const { template: t } = synthRelay({ relay: { domains: ["contoso.com", "fabrikam.com"] } });
    const outputs = t.toJSON().Outputs;
    expect(outputs.Spf1.Description).toContain("contoso.com");
    expect(outputs.Spf2.Description).toContain("fabrikam.com");
    const parts: Cfn[] = outputs.Spf1.Value["Fn::Join"][1];
    const text = parts
      .map((p) => (typeof p === "string" ? p : p["Fn::GetAtt"][1] === "PublicIp" ? "<IP>" : "?"))
      .join("");
    expect(text).toBe("v=spf1 ip4:<IP> ip4:<IP> -all");
    expect(() => synthRelay({ relay: { domains: ["not a domain"] } })).toThrow(/relay\.domains\.0/);
  });

  test("given EIP allocations, the NAT gateways use them and no new EIP is made", () => {
    const ids = ["eipalloc-0a1b2c3d", "eipalloc-0e4f5a6b"];
    const { template: t } = synthRelay({ relay: { egressEipAllocationIds: ids } });
    t.resourceCountIs("AWS::EC2::EIP", 0);
    const nats = t.findResources("AWS::EC2::NatGateway");
    expect(
      Object.values(nats)
        .map((n: Cfn) => n.Properties.AllocationId)
        .sort(),
    ).toEqual(ids);
  });

  test("with a TLS certificate configured, the listener may read only that secret and the tls/ CA bundles", () => {
    const { template: t } = synthRelay({ relay: { tlsCertificate: true } });
    const task = Object.values(t.findResources("AWS::ECS::TaskDefinition"))[0] as Cfn;
    const env = task.Properties.ContainerDefinitions[0].Environment;
    expect(env).toContainEqual({ Name: "RELAY_TLS_SECRET", Value: "tls" });
    const policies = Object.entries(t.findResources("AWS::IAM::Policy")).filter(([id]) =>
      id.startsWith("ListenerTaskTaskRole"),
    );
    const secretResources = policies
      .flatMap(([, p]: Cfn) => p.Properties.PolicyDocument.Statement)
      .filter((s: Cfn) => [s.Action].flat().includes("secretsmanager:GetSecretValue"))
      .map((s: Cfn) => JSON.stringify(s.Resource));
    expect(secretResources).toHaveLength(2);
    expect(secretResources[0]).toContain("secret:connectorrelay-prod/tls-");
    expect(secretResources[1]).toContain("secret:connectorrelay-prod/tls/*");
    expect(secretResources.join()).not.toMatch(/connectorrelay-prod\/\*/);
  });
});

describe("delivery events", () => {
  test("a bus of the relay's own; only the deliver function may put events on it, and knows its name", () => {
    const [[busId]] = ofType("AWS::Events::EventBus") as [[string, unknown]];
    const grants = Object.entries(s.resources)
      .filter(([, r]) => r.Type === "AWS::IAM::Policy")
      .flatMap(([pid, p]) =>
        (p.Properties.PolicyDocument.Statement as Cfn[])
          .filter((st) => [st.Action].flat().some((a: string) => a.startsWith("events:")))
          .map((st) => ({ policy: pid, actions: [st.Action].flat(), resource: st.Resource })),
      );
    expect(grants).toEqual([
      {
        policy: expect.stringMatching(/^DeliverFunctionServiceRoleDefaultPolicy/),
        actions: ["events:PutEvents"],
        resource: { "Fn::GetAtt": [busId, "Arn"] },
      },
    ]);
    const deliver = ofType("AWS::Lambda::Function").find(([id]) => id.startsWith("Deliver"));
    expect(deliver?.[1].Properties.Environment.Variables.RELAY_EVENT_BUS).toEqual({ Ref: busId });
    const route = ofType("AWS::Lambda::Function").find(([id]) => id.startsWith("Route"));
    expect(route?.[1].Properties.Environment.Variables.RELAY_EVENT_BUS).toBeUndefined();
  });
});
