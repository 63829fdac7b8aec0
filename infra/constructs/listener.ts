// The SMTP listener: Fargate service (image built from the repo's Dockerfile) behind a Network Load Balancer on 25, 587 and 465.
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { REPO_ROOT } from "./functions.ts";

/** A port clients connect to on the NLB, and the unprivileged port the container binds for it. */
export interface SmtpPort {
  name: string;
  /** Public port on the load balancer; also the port receive connectors' bindings name. */
  port: number;
  /** Port bound inside the container (a non-root user cannot bind below 1024). */
  containerPort: number;
}

export interface ListenerServiceProps {
  vpc: ec2.IVpc;
  ports: SmtpPort[];
  /** HTTP health endpoint of the listener (listener config `healthPort`). @default 8025 */
  healthPort?: number;
  /** @default "/health" */
  healthPath?: string;
  cpu: number;
  memoryMiB: number;
  minTasks: number;
  maxTasks: number;
  targetCpuPercent: number;
  /** CloudWatch Container Insights on the cluster. @default true */
  containerInsights?: boolean;
  environment: Record<string, string>;
  logRetentionDays: number;
}

export class ListenerService extends Construct {
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly targetGroups: elbv2.NetworkTargetGroup[] = [];
  readonly taskDefinition: ecs.FargateTaskDefinition;

  constructor(scope: Construct, id: string, props: ListenerServiceProps) {
    super(scope, id);
    const healthPort = props.healthPort ?? 8025;
    const cluster = new ecs.Cluster(this, "Cluster", {
      vpc: props.vpc,
      containerInsightsV2:
        props.containerInsights === false
          ? ecs.ContainerInsights.DISABLED
          : ecs.ContainerInsights.ENABLED,
    });

    if (props.containerInsights === false)
      Validations.of(cluster).acknowledge({
        id: "AwsSolutions-ECS4",
        reason:
          "Turned off by the containerInsights setting to save its custom-metric charges on a small deployment; the free AWS/ECS service metrics (CPU, memory) still drive scaling, and the NLB's target health is alarmed.",
      });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const bindPorts = Object.fromEntries(props.ports.map((p) => [String(p.port), p.containerPort]));
    const container = this.taskDefinition.addContainer("listener", {
      // Recorded as an asset at synth (no Docker needed then); built and pushed by `cdk deploy`.
      image: ecs.ContainerImage.fromAsset(REPO_ROOT, {
        file: "Dockerfile",
        platform: Platform.LINUX_ARM64,
      }),
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: "listener",
        // Retained on stack deletion (connection and protocol logs are the audit trail); they still
        // expire by retention.
        logGroup: new logs.LogGroup(this, "Logs", {
          retention: props.logRetentionDays,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      }),
      environment: {
        ...props.environment,
        [RELAY_ENV.bindPorts]: JSON.stringify(bindPorts),
        [RELAY_ENV.healthPort]: String(healthPort),
      },
      readonlyRootFilesystem: true,
      // SIGTERM lets sessions finish (listener shutdownDeadlineMs 25 s) before ECS kills the task.
      stopTimeout: Duration.seconds(30),
    });
    // The root filesystem is read-only; anything a library writes goes to a task-local /tmp.
    this.taskDefinition.addVolume({ name: "tmp" });
    container.addMountPoints({ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false });
    for (const p of props.ports) container.addPortMappings({ containerPort: p.containerPort });
    container.addPortMappings({ containerPort: healthPort });
    Validations.of(this.taskDefinition).acknowledge({
      id: "AwsSolutions-ECS2",
      reason:
        "The environment holds only resource names and settings (queue URLs, table names, ports); the TLS key and credentials are read from Secrets Manager at run time.",
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "The execution role's ecr:GetAuthorizationToken supports no resource-level permission (AWS adds it for every ECR image).",
    });

    // The NLB has a security group, so the tasks admit only traffic that came through it: AWS
    // documents that a target's rule referencing the NLB's group admits its traffic with client IP
    // preservation on, while the source the task sees stays the client's own address (relay
    // decisions and RemoteIPRanges depend on it). Clients cannot reach a task directly.
    const lbSecurityGroup = new ec2.SecurityGroup(this, "LoadBalancerSecurityGroup", {
      vpc: props.vpc,
      description:
        "SMTP load balancer: 25, 587, 465 from the internet; out only to the listener tasks",
      allowAllOutbound: false,
    });
    for (const p of props.ports)
      lbSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(p.port), p.name);
    Validations.of(lbSecurityGroup).acknowledge({
      id: "AwsSolutions-EC23",
      reason: "The load balancer is the relay's public SMTP endpoint on 25, 587 and 465.",
    });
    const taskSecurityGroup = new ec2.SecurityGroup(this, "TaskSecurityGroup", {
      vpc: props.vpc,
      description: "SMTP listener tasks: SMTP and health checks from the load balancer only",
      allowAllOutbound: true,
    });
    // allowFrom adds both sides: the tasks' ingress and the load balancer's matching egress.
    for (const p of props.ports)
      taskSecurityGroup.connections.allowFrom(
        lbSecurityGroup,
        ec2.Port.tcp(p.containerPort),
        `${p.name} through the NLB (client IP preserved)`,
      );
    taskSecurityGroup.connections.allowFrom(
      lbSecurityGroup,
      ec2.Port.tcp(healthPort),
      "NLB health checks",
    );

    this.service = new ecs.FargateService(this, "Service", {
      cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [taskSecurityGroup],
      assignPublicIp: false,
      healthCheckGracePeriod: Duration.seconds(60),
    });
    const scaling = this.service.autoScaleTaskCount({
      minCapacity: props.minTasks,
      maxCapacity: props.maxTasks,
    });
    scaling.scaleOnCpuUtilization("Cpu", {
      targetUtilizationPercent: props.targetCpuPercent,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, "LoadBalancer", {
      vpc: props.vpc,
      internetFacing: true,
      crossZoneEnabled: true,
      securityGroups: [lbSecurityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: "AwsSolutions-ELB2",
      reason:
        "NLB access logs are written only for TLS listeners; these are TCP pass-through listeners (TLS ends in the listener for STARTTLS and 465), so there would be no log. Sessions are logged by the listener and rejected flows by VPC flow logs.",
    });

    for (const p of props.ports) {
      const listener = this.loadBalancer.addListener(p.name, {
        port: p.port,
        protocol: elbv2.Protocol.TCP,
      });
      const target = listener.addTargets(p.name, {
        port: p.containerPort,
        protocol: elbv2.Protocol.TCP,
        // IP targets with client IP preservation: the listener sees the client's own address. The
        // NLB would otherwise speak PROXY v2 only, which smtp-server cannot parse.
        preserveClientIp: true,
        deregistrationDelay: Duration.seconds(30),
        healthCheck: {
          protocol: elbv2.Protocol.HTTP,
          port: String(healthPort),
          path: props.healthPath ?? "/health",
          interval: Duration.seconds(10),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
        targets: [
          this.service.loadBalancerTarget({
            containerName: "listener",
            containerPort: p.containerPort,
          }),
        ],
      });
      this.targetGroups.push(target);
    }
  }
}
