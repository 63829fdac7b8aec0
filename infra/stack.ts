// The relay's stack: composes network, storage, queues, functions, listener and monitoring from one RelayConfig.
import { CfnOutput, Duration, Fn, Stack, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type { Construct } from "constructs";
import { RELAY_ENV } from "#adapters/aws/env.ts";
import { DEFAULT_METRICS_NAMESPACE } from "#core/metrics.ts";
import { MAX_DELAY_SECONDS } from "#core/queue-limits.ts";
import type { RelayConfig } from "./config.ts";
import { grantRelayAccess } from "./constructs/access.ts";
import { DeliveryEvents } from "./constructs/events.ts";
import { RelayFunction } from "./constructs/functions.ts";
import { ListenerService } from "./constructs/listener.ts";
import { RelayMonitoring } from "./constructs/monitoring.ts";
import { RelayNetwork } from "./constructs/network.ts";
import { RelayQueue } from "./constructs/queues.ts";
import { RelayStorage } from "./constructs/storage.ts";

export interface RelayStackProps extends StackProps {
  config: RelayConfig;
  /** Function entries relative to the repository root. @default functions/<name>/lambda.ts */
  entries?: { route?: string; deliver?: string };
}

/** The listener's certificate is the secret `<prefix>tls`. */
const TLS_SECRET = "tls";

/** Unprivileged ports the container binds for the public ones (a non-root process cannot bind below 1024). */
const containerPort = (port: number) => (port < 1024 ? 10_000 + port : port);

export class RelayStack extends Stack {
  readonly network: RelayNetwork;
  readonly storage: RelayStorage;
  /** The EventBridge bus of delivery events. */
  readonly events: DeliveryEvents;
  readonly submission: RelayQueue;
  readonly delivery: RelayQueue;
  readonly route: RelayFunction;
  readonly deliver: RelayFunction;
  readonly listener: ListenerService;
  readonly monitoring: RelayMonitoring;

  constructor(scope: Construct, id: string, props: RelayStackProps) {
    super(scope, id, props);
    const c = props.config;
    const secretPrefix = `${c.stackName.toLowerCase()}/`;

    // SMTP ports deliver may reach; NAT instances forward these, HTTPS (AWS APIs, image pulls) and DNS.
    const smtpPorts = [...(c.mxDeliveryEnabled ? [25] : []), ...c.smartHostPorts];
    this.network = new RelayNetwork(this, "Network", {
      egress: c.egress,
      natGateways: c.natGateways,
      natInstanceType: c.natInstanceType,
      egressPorts: { tcp: [...smtpPorts, 443, 53], udp: [53] },
      eipAllocationIds: c.egressEipAllocationIds,
      sqsEndpoint: c.sqsEndpoint,
      flowLogRetentionDays: c.retention.logDays,
    });
    this.storage = new RelayStorage(this, "Storage", {
      bodyRetentionDays: c.retention.bodyDays,
      secretPrefix,
      tlsSecretName: c.tlsCertificate ? `${secretPrefix}${TLS_SECRET}` : undefined,
    });
    // Visibility ≥ 6 × the consumer's timeout, as AWS advises for Lambda event sources, so a
    // message is not handed to a second invocation while the first still runs (and throttled
    // retries do not count towards maxReceiveCount too fast).
    const queueFor = (id: string, timeoutSeconds: number) =>
      new RelayQueue(this, id, {
        visibilityTimeout: Duration.seconds(6 * timeoutSeconds),
        maxReceiveCount: c.maxReceiveCount,
        retention: Duration.days(c.retention.queueDays),
      });
    this.submission = queueFor("SubmissionQueue", c.route.timeoutSeconds);
    this.delivery = queueFor("DeliveryQueue", c.deliver.timeoutSeconds);

    const environment: Record<string, string> = {
      [RELAY_ENV.submissionQueueUrl]: this.submission.queue.queueUrl,
      [RELAY_ENV.deliveryQueueUrl]: this.delivery.queue.queueUrl,
      [RELAY_ENV.bodyBucket]: this.storage.bodyBucket.bucketName,
      [RELAY_ENV.recordTable]: this.storage.recordTable.tableName,
      [RELAY_ENV.trackingTable]: this.storage.trackingTable.tableName,
      [RELAY_ENV.secretPrefix]: secretPrefix,
      [RELAY_ENV.trackingRetentionDays]: String(c.retention.trackingDays),
      [RELAY_ENV.hostName]: c.hostName,
      [RELAY_ENV.mxDeliveryEnabled]: String(c.mxDeliveryEnabled),
      [RELAY_ENV.smartHostOnly]: String(c.smartHostOnly),
      [RELAY_ENV.metricsNamespace]: DEFAULT_METRICS_NAMESPACE,
      [RELAY_ENV.metricsService]: this.stackName,
      [RELAY_ENV.maxReceiveCount]: String(c.maxReceiveCount),
      [RELAY_ENV.claimCheckThresholdBytes]: String(c.claimCheckThresholdBytes),
    };

    this.route = new RelayFunction(this, "Route", {
      description:
        "Splits submitted messages by recipient domain, picks send connectors, queues delivery jobs",
      entry: props.entries?.route ?? "functions/route/lambda.ts",
      memoryMiB: c.route.memoryMiB,
      timeout: Duration.seconds(c.route.timeoutSeconds),
      environment,
      queue: this.submission.queue,
      batchSize: c.route.batchSize,
      maxConcurrency: c.route.maxConcurrency,
      logRetentionDays: c.retention.logDays,
    });

    const deliverSecurityGroup = new ec2.SecurityGroup(this, "DeliverSecurityGroup", {
      vpc: this.network.vpc,
      description: "Deliver function: SMTP to MX hosts and smart hosts, HTTPS to AWS APIs, DNS",
      allowAllOutbound: false,
    });
    for (const port of smtpPorts)
      deliverSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `SMTP ${port}`);
    deliverSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), "AWS APIs");
    deliverSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.udp(53), "DNS");
    deliverSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(53), "DNS over TCP");

    this.events = new DeliveryEvents(this, "Events");
    this.deliver = new RelayFunction(this, "Deliver", {
      description: "Delivers jobs by MX or smart host; retries, NDRs and delay DSNs",
      entry: props.entries?.deliver ?? "functions/deliver/lambda.ts",
      memoryMiB: c.deliver.memoryMiB,
      timeout: Duration.seconds(c.deliver.timeoutSeconds),
      // Next-hop slots, rates, throttle backoff and circuits, shared by every invocation.
      environment: {
        ...environment,
        [RELAY_ENV.limitsTable]: this.storage.limitsTable.tableName,
        [RELAY_ENV.eventBus]: this.events.bus.eventBusName,
      },
      queue: this.delivery.queue,
      batchSize: c.deliver.batchSize,
      maxConcurrency: c.deliver.maxConcurrency,
      logRetentionDays: c.retention.logDays,
      // In private subnets: its traffic leaves through the NAT gateways' or instances' Elastic IPs.
      vpc: { vpc: this.network.vpc, securityGroup: deliverSecurityGroup },
    });

    grantRelayAccess(this.route, this.route.role, this.storage, {
      sendTo: [this.delivery.queue, this.submission.queue],
      bodies: "readWrite",
      records: true,
      tracking: true,
      secrets: false,
    });
    // Route signs outgoing mail with DKIM: it reads the dkim/ secrets and no others.
    this.storage.grantDkimRead(this.route, this.route.role);
    grantRelayAccess(this.deliver, this.deliver.role, this.storage, {
      sendTo: [this.delivery.queue, this.submission.queue],
      bodies: "readWrite",
      records: true,
      tracking: true,
      secrets: true,
    });
    this.events.grantPublish(this.deliver.fn);

    const ports = [
      { name: "Smtp", port: c.ports.smtp },
      { name: "Submission", port: c.ports.submission },
      { name: "Submissions", port: c.ports.submissions },
    ].map((p) => ({ ...p, containerPort: containerPort(p.port) }));
    this.listener = new ListenerService(this, "Listener", {
      vpc: this.network.vpc,
      ports,
      cpu: c.listener.cpu,
      memoryMiB: c.listener.memoryMiB,
      minTasks: c.listener.minTasks,
      maxTasks: c.listener.maxTasks,
      targetCpuPercent: c.listener.targetCpuPercent,
      containerInsights: c.listener.containerInsights,
      logRetentionDays: c.retention.logDays,
      environment: {
        ...environment,
        // Relative to the secret prefix, as the listener's secret store reads it.
        ...(c.tlsCertificate ? { [RELAY_ENV.tlsSecret]: TLS_SECRET } : {}),
        [RELAY_ENV.maxMessageSizeBytes]: String(c.maxMessageSizeMb * 1024 * 1024),
        [RELAY_ENV.limitsTable]: this.storage.limitsTable.tableName,
      },
    });
    grantRelayAccess(
      this.listener.taskDefinition,
      this.listener.taskDefinition.taskRole,
      this.storage,
      {
        sendTo: [this.submission.queue],
        bodies: "readWrite",
        records: true,
        // The listener only queues; route writes the first tracking rows.
        tracking: false,
        secrets: false,
      },
    );
    // Counters only: read, add, and reset an expired window. Unlocking (DeleteItem) is the admin's.
    this.storage.limitsTable.grant(
      this.listener.taskDefinition.taskRole,
      "dynamodb:GetItem",
      "dynamodb:UpdateItem",
      "dynamodb:PutItem",
    );
    // Deliver's next-hop documents: read and conditional put, nothing else (dynamodb-hop-state.ts).
    this.storage.limitsTable.grant(this.deliver.role, "dynamodb:GetItem", "dynamodb:PutItem");
    // The listener reads only its TLS secrets, not the smart-host credentials under the prefix.
    this.storage.grantTlsRead(this.listener.taskDefinition, this.listener.taskDefinition.taskRole);

    this.monitoring = new RelayMonitoring(this, "Monitoring", {
      namespace: DEFAULT_METRICS_NAMESPACE,
      service: this.stackName,
      submission: this.submission,
      delivery: this.delivery,
      route: this.route.fn,
      deliver: this.deliver.fn,
      listenerTargetGroups: this.listener.targetGroups,
      oldestMessageAlarmSeconds: c.oldestMessageAlarmSeconds,
      maxRetryDelaySeconds: MAX_DELAY_SECONDS,
      alarmEmail: c.alarmEmail,
    });

    // SPF needs the addresses, known only once the EIPs exist: output the record to paste per domain.
    if (this.network.egressIps.length)
      c.domains.forEach((domain, i) => {
        new CfnOutput(this, `Spf${i + 1}`, {
          description: `TXT record for ${domain} (keep any include: your other senders need)`,
          value: Fn.join("", [
            "v=spf1 ",
            ...this.network.egressIps.flatMap((ip) => ["ip4:", ip, " "]),
            "-all",
          ]),
        });
      });

    new CfnOutput(this, "SmtpEndpoint", {
      value: this.listener.loadBalancer.loadBalancerDnsName,
      description: "Point the relay's host name (A/CNAME) here; clients connect on 25, 587, 465",
    });
    new CfnOutput(this, "RecordTable", { value: this.storage.recordTable.tableName });
    new CfnOutput(this, "LimitsTable", { value: this.storage.limitsTable.tableName });
    new CfnOutput(this, "SecretPrefix", { value: secretPrefix });
    new CfnOutput(this, "AlarmTopic", { value: this.monitoring.alarmTopic.topicArn });
    new CfnOutput(this, "EventBus", { value: this.events.bus.eventBusName });
    // The rest of what `relay ... --stack NAME` reads (cli/stack.ts, STACK_OUTPUTS).
    const forCli: Record<string, string> = {
      TrackingTable: this.storage.trackingTable.tableName,
      SubmissionQueueUrl: this.submission.queue.queueUrl,
      DeliveryQueueUrl: this.delivery.queue.queueUrl,
      SubmissionDlqUrl: this.submission.deadLetterQueue.queueUrl,
      DeliveryDlqUrl: this.delivery.deadLetterQueue.queueUrl,
      BodyBucket: this.storage.bodyBucket.bucketName,
    };
    for (const [key, value] of Object.entries(forCli)) new CfnOutput(this, key, { value });
  }
}
