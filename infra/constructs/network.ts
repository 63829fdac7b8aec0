// VPC across two AZs whose NAT gateways or NAT instances carry Elastic IPs: the static egress addresses for port 25, SPF, PTR and smart-host allow lists.
import { CfnOutput, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

/** Managed NAT gateways, or NAT instances (an EC2 instance per AZ that forwards, at a tenth of the price). */
export type EgressKind = "nat-gateway" | "nat-instance";

export interface RelayNetworkProps {
  /** @default "nat-gateway" */
  egress?: EgressKind;
  /** NAT gateways or instances, one per AZ. @default 2 */
  natGateways?: number;
  /** Instance type of the NAT instances (Graviton types get the arm64 image). @default "t4g.nano" */
  natInstanceType?: string;
  /**
   * Ports the NAT instances forward from the VPC to the Internet (their security group admits
   * nothing else). NAT gateways have no security group; the senders' own groups limit them.
   * @default tcp [443], udp []
   */
  egressPorts?: { tcp: number[]; udp: number[] };
  /** Reuse these Elastic IPs instead of allocating new ones. @default new, retained EIPs */
  eipAllocationIds?: string[];
  /** An SQS interface endpoint (private DNS) in the private subnets. @default false */
  sqsEndpoint?: boolean;
  /** @default 30 */
  flowLogRetentionDays?: number;
  /** The VPC's IPv4 range (a literal, so security group rules can name it). @default "10.0.0.0/16" */
  cidr?: string;
}

export class RelayNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** Public IPv4 addresses the relay sends from (tokens until deployed). */
  readonly egressIps: string[];
  /** The NAT instances, when egress is "nat-instance". */
  readonly natInstances: ec2.Instance[] = [];

  constructor(scope: Construct, id: string, props: RelayNetworkProps = {}) {
    super(scope, id);
    const count = props.natGateways ?? 2;
    const egress = props.egress ?? "nat-gateway";
    let allocationIds = props.eipAllocationIds;
    this.egressIps = [];
    if (!allocationIds) {
      allocationIds = [];
      for (let i = 0; i < count; i++) {
        const eip = new ec2.CfnEIP(this, `EgressIp${i + 1}`, {
          domain: "vpc",
          tags: [{ key: "Name", value: `${Stack.of(this).stackName}-egress-${i + 1}` }],
        });
        // Retained: the port-25 approval, PTR records and SPF entries are tied to these addresses.
        eip.applyRemovalPolicy(RemovalPolicy.RETAIN);
        allocationIds.push(eip.attrAllocationId);
        this.egressIps.push(eip.attrPublicIp);
      }
    }

    const natInstances =
      egress === "nat-instance"
        ? ec2.NatProvider.instanceV2({
            instanceType: new ec2.InstanceType(props.natInstanceType ?? "t4g.nano"),
            // No rule yet: the VPC's CIDR and the egress ports are added below, once the VPC exists.
            defaultAllowedTraffic: ec2.NatTrafficDirection.NONE,
          })
        : undefined;
    this.vpc = new ec2.Vpc(this, "Vpc", {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? "10.0.0.0/16"),
      maxAzs: 2,
      natGateways: count,
      natGatewayProvider:
        natInstances ?? ec2.NatProvider.gateway({ eipAllocationIds: allocationIds }),
      subnetConfiguration: [
        { name: "Public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: "Private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      restrictDefaultSecurityGroup: true,
    });
    if (natInstances) this.configureNatInstances(natInstances, allocationIds, props);

    // Gateway endpoints are free and keep body and tracking traffic off the NAT's per-GB charge.
    this.vpc.addGatewayEndpoint("S3", { service: ec2.GatewayVpcEndpointAwsService.S3 });
    this.vpc.addGatewayEndpoint("DynamoDb", { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
    // SQS has no gateway endpoint: an interface endpoint trades an hourly fee per AZ for the NAT's
    // per-GB charge on queue traffic. Private DNS sends the SDK's default endpoint name there;
    // its security group admits HTTPS from the VPC's range only.
    if (props.sqsEndpoint) {
      const sqsGroup = new ec2.SecurityGroup(this, "SqsEndpointSecurityGroup", {
        vpc: this.vpc,
        description: "SQS interface endpoint: HTTPS from the VPC",
        allowAllOutbound: false,
      });
      sqsGroup.addIngressRule(ec2.Peer.ipv4(props.cidr ?? "10.0.0.0/16"), ec2.Port.tcp(443));
      this.vpc.addInterfaceEndpoint("Sqs", {
        service: ec2.InterfaceVpcEndpointAwsService.SQS,
        privateDnsEnabled: true,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [sqsGroup],
        open: false,
      });
    }

    const flowLogs = new logs.LogGroup(this, "FlowLogs", {
      retention: props.flowLogRetentionDays ?? 30,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog("FlowLog", {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    const via = egress === "nat-instance" ? "NAT instance" : "NAT gateway";
    this.egressIps.forEach((ip, i) => {
      new CfnOutput(this, `EgressIpOutput${i + 1}`, {
        key: `EgressIp${i + 1}`,
        value: ip,
        description: `Static egress IP (${via} EIP): request port 25, set its PTR to the relay host name, list it in SPF and smart-host allow lists`,
      });
    });
    if (props.eipAllocationIds)
      new CfnOutput(this, "EgressEipAllocations", {
        key: "EgressEipAllocationIds",
        value: props.eipAllocationIds.join(","),
        description: `Elastic IPs the ${via}s use (given in config)`,
      });
  }

  /** EIP per instance, forwarding only the egress ports and only from the VPC, encrypted root volume. */
  private configureNatInstances(
    provider: ec2.NatInstanceProviderV2,
    allocationIds: string[],
    props: RelayNetworkProps,
  ): void {
    const ports = props.egressPorts ?? { tcp: [443], udp: [] };
    const rules = [
      ...ports.tcp.map((p) => ec2.Port.tcp(p)),
      ...ports.udp.map((p) => ec2.Port.udp(p)),
    ];
    const vpcCidr = ec2.Peer.ipv4(props.cidr ?? "10.0.0.0/16");
    for (const port of rules) {
      provider.securityGroup.addIngressRule(vpcCidr, port, `Forward ${port} from the VPC`);
      provider.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), port, `Forward ${port} out`);
    }
    provider.gatewayInstances.forEach((instance, i) => {
      this.natInstances.push(instance);
      // The instance keeps its address for its life; the EIP association survives a stop and an
      // EC2 auto-recovery, and a replaced instance gets the same EIP (SPF and PTR stay valid).
      new ec2.CfnEIPAssociation(this, `EgressIpAssociation${i + 1}`, {
        allocationId: allocationIds[i],
        instanceId: instance.instanceId,
      });
      // Amazon Linux 2023 images require IMDSv2 already; the root volume is encrypted here because
      // the provider does not expose block devices.
      instance.instance.blockDeviceMappings = [
        { deviceName: "/dev/xvda", ebs: { encrypted: true, volumeType: "gp3", volumeSize: 8 } },
      ];
      Validations.of(instance).acknowledge({
        id: "AwsSolutions-EC28",
        reason:
          "Basic 5-minute metrics and EC2's status checks suffice to see a NAT instance fail; detailed monitoring would add about $2 a month per instance to an option chosen for its cost.",
      });
      Validations.of(instance).acknowledge({
        id: "AwsSolutions-EC29",
        reason:
          "CloudFormation must be able to replace a NAT instance (a new Amazon Linux image changes it); the durable part is the retained Elastic IP, which the new instance takes over.",
      });
    });
  }
}
