// Template tests of the network edges: the listener admits only the NLB's security group; egress by NAT gateways or NAT instances on static EIPs.
import { describe, expect, test } from "vitest";
import { parseConfig, type RelayConfigInput } from "#infra/config.ts";
import { synthRelay } from "./infra-app.ts";

/** Template JSON as parsed: shapes vary per resource type, so properties stay untyped. */
type Cfn = ReturnType<typeof JSON.parse>;
type Resources = Record<string, { Type: string; Properties: Cfn; DeletionPolicy?: string }>;

function synth(relay: RelayConfigInput = {}) {
  const { template } = synthRelay({ relay });
  const json = template.toJSON();
  const resources = json.Resources as Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const idOf = (prefix: string, type: string) => {
    const found = ofType(type).filter(([id]) => id.startsWith(prefix));
    expect(found, prefix).toHaveLength(1);
    return found[0]![0];
  };
  return { resources, outputs: json.Outputs as Cfn, ofType, idOf };
}

const groupId = (ref: Cfn) => ref?.["Fn::GetAtt"]?.[0];

describe("listener security groups", () => {
  const t = synth();
  const taskSg = t.idOf("ListenerTaskSecurityGroup", "AWS::EC2::SecurityGroup");
  const lbSg = t.idOf("ListenerLoadBalancerSecurityGroup", "AWS::EC2::SecurityGroup");

  test("tasks admit SMTP and health checks only from the NLB's security group, from no CIDR", () => {
    expect(t.resources[taskSg]!.Properties.SecurityGroupIngress ?? []).toEqual([]);
    const ingress = t
      .ofType("AWS::EC2::SecurityGroupIngress")
      .map(([, r]) => r.Properties)
      .filter((p) => groupId(p.GroupId) === taskSg);
    expect(ingress.map((p) => p.FromPort).sort()).toEqual([10025, 10465, 10587, 8025]);
    for (const p of ingress) {
      expect(groupId(p.SourceSecurityGroupId)).toBe(lbSg);
      expect(p.CidrIp).toBeUndefined();
    }
  });

  test("the NLB takes 25, 587 and 465 from anywhere and sends only to the tasks' ports", () => {
    const lb = t.resources[lbSg]!.Properties;
    expect(lb.SecurityGroupIngress.map((r: Cfn) => `${r.CidrIp}:${r.FromPort}`).sort()).toEqual([
      "0.0.0.0/0:25",
      "0.0.0.0/0:465",
      "0.0.0.0/0:587",
    ]);
    expect(lb.SecurityGroupEgress ?? []).not.toContainEqual(
      expect.objectContaining({ CidrIp: "0.0.0.0/0" }),
    );
    const egress = t
      .ofType("AWS::EC2::SecurityGroupEgress")
      .map(([, r]) => r.Properties)
      .filter((p) => groupId(p.GroupId) === lbSg);
    expect(egress).toHaveLength(4);
    for (const p of egress) expect(groupId(p.DestinationSecurityGroupId)).toBe(taskSg);
    const [nlb] = t.ofType("AWS::ElasticLoadBalancingV2::LoadBalancer");
    expect(nlb![1].Properties.SecurityGroups.map(groupId)).toEqual([lbSg]);
  });

  test("client IP preservation stays on, so the listener still decides on the client's own address", () => {
    for (const [, g] of t.ofType("AWS::ElasticLoadBalancingV2::TargetGroup"))
      expect(g.Properties.TargetGroupAttributes).toContainEqual({
        Key: "preserve_client_ip.enabled",
        Value: "true",
      });
  });
});

describe("egress through NAT instances", () => {
  const t = synth({ egress: "nat-instance" });
  const instances = t.ofType("AWS::EC2::Instance");

  test("one Graviton NAT instance per AZ replaces the NAT gateways; each forwards (source/dest check off)", () => {
    expect(t.ofType("AWS::EC2::NatGateway")).toHaveLength(0);
    expect(instances).toHaveLength(2);
    expect(new Set(instances.map(([, i]) => i.Properties.AvailabilityZone)).size).toBe(2);
    for (const [, i] of instances) {
      expect(i.Properties.SourceDestCheck).toBe(false);
      expect(i.Properties.InstanceType).toBe("t4g.nano");
      expect(i.Properties.BlockDeviceMappings[0].Ebs.Encrypted).toBe(true);
      expect(JSON.stringify(i.Properties.ImageId)).toMatch(/al2023.*arm64/i);
    }
    // Each private subnet's default route goes to the instance in its AZ.
    const routes = t
      .ofType("AWS::EC2::Route")
      .filter(([, r]) => r.Properties.InstanceId)
      .map(([, r]) => r.Properties.InstanceId.Ref);
    expect(routes.sort()).toEqual(instances.map(([id]) => id).sort());
  });

  test("each instance holds its own retained Elastic IP, and the outputs and SPF name those addresses", () => {
    const eips = t.ofType("AWS::EC2::EIP");
    expect(eips).toHaveLength(2);
    for (const [, e] of eips) expect(e.DeletionPolicy).toBe("Retain");
    const assoc = t.ofType("AWS::EC2::EIPAssociation").map(([, a]) => a.Properties);
    expect(assoc.map((a) => a.InstanceId.Ref).sort()).toEqual(instances.map(([id]) => id).sort());
    expect(assoc.map((a) => groupId(a.AllocationId)).sort()).toEqual(eips.map(([id]) => id).sort());
    const outputs = ["EgressIp1", "EgressIp2"].map((k) => t.outputs[k].Value["Fn::GetAtt"]);
    expect(outputs.map(([id]: string[]) => id).sort()).toEqual(eips.map(([id]) => id).sort());
    for (const o of outputs) expect(o[1]).toBe("PublicIp");
    expect(t.outputs.EgressIp1.Description).toContain("NAT instance");
  });

  test("their security group admits only the VPC, on the ports deliver and the listener use", () => {
    const sgIds = new Set(instances.flatMap(([, i]) => i.Properties.SecurityGroupIds.map(groupId)));
    expect(sgIds.size).toBe(1);
    const sg = t.resources[[...sgIds][0]]!.Properties;
    const [vpc] = t.ofType("AWS::EC2::VPC");
    const ports = (rules: Cfn[]) => rules.map((r) => `${r.IpProtocol}/${r.FromPort}`).sort();
    const expected = ["tcp/25", "tcp/2525", "tcp/443", "tcp/465", "tcp/53", "tcp/587", "udp/53"];
    for (const r of sg.SecurityGroupIngress) expect(r.CidrIp).toBe(vpc![1].Properties.CidrBlock);
    expect(ports(sg.SecurityGroupIngress)).toEqual(expected);
    expect(ports(sg.SecurityGroupEgress)).toEqual(expected);
    const separate = t
      .ofType("AWS::EC2::SecurityGroupIngress")
      .filter(([, r]) => sgIds.has(groupId(r.Properties.GroupId)));
    expect(separate).toHaveLength(0);
  });

  test("smart-host-only with one instance: no port 25 forwarded, one EIP, every private subnet routes to it", () => {
    const one = synth({
      egress: "nat-instance",
      natGateways: 1,
      smartHostOnly: true,
      mxDeliveryEnabled: false,
      natInstanceType: "t4g.micro",
    });
    const [instance] = one.ofType("AWS::EC2::Instance");
    expect(one.ofType("AWS::EC2::Instance")).toHaveLength(1);
    expect(instance![1].Properties.InstanceType).toBe("t4g.micro");
    expect(one.ofType("AWS::EC2::EIP")).toHaveLength(1);
    const routes = one.ofType("AWS::EC2::Route").filter(([, r]) => r.Properties.InstanceId);
    expect(routes).toHaveLength(2);
    const sgId = groupId(instance![1].Properties.SecurityGroupIds[0]);
    const ports = one.resources[sgId]!.Properties.SecurityGroupIngress.map((r: Cfn) => r.FromPort);
    expect(ports).not.toContain(25);
  });

  test("given allocation ids, the instances take those EIPs and none is made", () => {
    const ids = ["eipalloc-0a1b2c3d", "eipalloc-0e4f5a6b"];
    const given = synth({ egress: "nat-instance", egressEipAllocationIds: ids });
    expect(given.ofType("AWS::EC2::EIP")).toHaveLength(0);
    const assoc = given
      .ofType("AWS::EC2::EIPAssociation")
      .map(([, a]) => a.Properties.AllocationId);
    expect(assoc.sort()).toEqual(ids);
  });

  test("a bad egress setting is refused with the key named", () => {
    expect(() => parseConfig({ egress: "nat" })).toThrow(
      /relay\.egress: .*nat-gateway.*nat-instance/,
    );
    expect(() => parseConfig({ natInstanceType: "nano" })).toThrow(
      /relay\.natInstanceType: not an EC2 instance type/,
    );
  });
});

describe("SQS interface endpoint", () => {
  test("off by default: queue traffic leaves through the NAT, S3 and DynamoDB through gateway endpoints", () => {
    const endpoints = synth().ofType("AWS::EC2::VPCEndpoint");
    expect(endpoints.map(([, r]) => r.Properties.VpcEndpointType ?? "Gateway")).toEqual([
      "Gateway",
      "Gateway",
    ]);
  });

  test("sqsEndpoint: an interface endpoint with private DNS in the private subnets, HTTPS from the VPC only", () => {
    const t = synth({ sqsEndpoint: true });
    const [sqs] = t
      .ofType("AWS::EC2::VPCEndpoint")
      .filter(([, r]) => r.Properties.VpcEndpointType === "Interface");
    expect(sqs).toBeDefined();
    const props = sqs![1].Properties;
    expect(JSON.stringify(props.ServiceName)).toContain("sqs");
    expect(props.PrivateDnsEnabled).toBe(true);
    expect(props.SubnetIds).toHaveLength(2);
    const sgId = groupId(props.SecurityGroupIds[0]);
    const ingress = t.resources[sgId]!.Properties.SecurityGroupIngress as Cfn[];
    expect(ingress.map((r) => [r.FromPort, r.ToPort])).toEqual([[443, 443]]);
    expect(JSON.stringify(ingress[0].CidrIp)).not.toContain("0.0.0.0/0");
  });

  test("a non-boolean sqsEndpoint is refused with the key named", () => {
    expect(() => parseConfig({ sqsEndpoint: "yes" } as unknown as RelayConfigInput)).toThrow(
      /sqsEndpoint/,
    );
  });
});
