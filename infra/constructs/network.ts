// VPC across two AZs whose NAT gateways carry Elastic IPs: the static egress addresses for port 25, SPF, PTR and smart-host allow lists.
import { CfnOutput, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

export interface RelayNetworkProps {
  /** NAT gateways, one per AZ. @default 2 */
  natGateways?: number;
  /** Reuse these Elastic IPs instead of allocating new ones. @default new, retained EIPs */
  eipAllocationIds?: string[];
  /** @default 30 */
  flowLogRetentionDays?: number;
}

export class RelayNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** Public IPv4 addresses the relay sends from (tokens until deployed). */
  readonly egressIps: string[];

  constructor(scope: Construct, id: string, props: RelayNetworkProps = {}) {
    super(scope, id);
    const count = props.natGateways ?? 2;
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

    this.vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: count,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: allocationIds }),
      subnetConfiguration: [
        { name: "Public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: "Private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      restrictDefaultSecurityGroup: true,
    });

    // Gateway endpoints are free and keep body and tracking traffic off the NAT gateways' per-GB charge.
    this.vpc.addGatewayEndpoint("S3", { service: ec2.GatewayVpcEndpointAwsService.S3 });
    this.vpc.addGatewayEndpoint("DynamoDb", { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });

    const flowLogs = new logs.LogGroup(this, "FlowLogs", {
      retention: props.flowLogRetentionDays ?? 30,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog("FlowLog", {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    this.egressIps.forEach((ip, i) => {
      new CfnOutput(this, `EgressIpOutput${i + 1}`, {
        key: `EgressIp${i + 1}`,
        value: ip,
        description:
          "Static egress IP (NAT gateway EIP): request port 25, set its PTR to the relay host name, list it in SPF and smart-host allow lists",
      });
    });
    if (props.eipAllocationIds)
      new CfnOutput(this, "EgressEipAllocations", {
        key: "EgressEipAllocationIds",
        value: props.eipAllocationIds.join(","),
        description: "Elastic IPs the NAT gateways use (given in config)",
      });
  }
}
