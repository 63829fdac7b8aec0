// Alarms (DLQ depth, oldest message age, function errors, unhealthy listener) and the relay's dashboard.
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import { EVENT_METRICS } from "#adapters/aws/metrics.ts";
import type { RelayQueue } from "./queues.ts";

export interface RelayMonitoringProps {
  namespace: string;
  submission: RelayQueue;
  delivery: RelayQueue;
  route: lambda.IFunction;
  deliver: lambda.IFunction;
  listenerTargetGroups: elbv2.NetworkTargetGroup[];
  oldestMessageAlarmSeconds: number;
  /** Longest delay a delivery-queue message may carry (SQS maximum, 900 s), added to its age threshold. */
  maxRetryDelaySeconds: number;
  alarmEmail?: string;
}

export class RelayMonitoring extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RelayMonitoringProps) {
    super(scope, id);
    const key = new kms.Key(this, "AlarmTopicKey", {
      description: "Encrypts the relay's alarm notifications",
      enableKeyRotation: true,
      // It encrypts notifications in flight, nothing stored: deleted with the stack (after AWS's
      // waiting period), rather than retained at $1 a month.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch must be able to use the key to publish to an encrypted topic.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    this.alarmTopic = new sns.Topic(this, "Alarms", { masterKey: key, enforceSSL: true });
    if (props.alarmEmail)
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.alarmTopic);
    const alarm = (id: string, a: cloudwatch.AlarmProps) => {
      const made = new cloudwatch.Alarm(this, id, a);
      made.addAlarmAction(notify);
      made.addOkAction(notify);
      this.alarms.push(made);
      return made;
    };
    const minute = Duration.minutes(1);

    for (const [name, q] of [
      ["Submission", props.submission],
      ["Delivery", props.delivery],
    ] as const) {
      alarm(`${name}DeadLetterDepth`, {
        alarmDescription: `Messages in the ${name.toLowerCase()} DLQ: they failed ${name === "Delivery" ? "delivery processing" : "routing"} repeatedly. Inspect, fix, then redrive.`,
        metric: q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: minute,
          statistic: "Maximum",
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const limit =
        props.oldestMessageAlarmSeconds + (name === "Delivery" ? props.maxRetryDelaySeconds : 0);
      alarm(`${name}OldestMessage`, {
        alarmDescription: `The oldest ${name.toLowerCase()} queue message is older than ${limit} s: the consumer is failing or too slow.`,
        metric: q.queue.metricApproximateAgeOfOldestMessage({
          period: minute,
          statistic: "Maximum",
        }),
        threshold: limit,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const [name, fn] of [
      ["Route", props.route],
      ["Deliver", props.deliver],
    ] as const) {
      alarm(`${name}Errors`, {
        alarmDescription: `The ${name.toLowerCase()} function failed whole invocations (not single messages): check its logs.`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    props.listenerTargetGroups.forEach((tg, i) => {
      alarm(`ListenerUnhealthy${i + 1}`, {
        alarmDescription: `Listener tasks fail the load balancer's health check (target group ${i + 1}).`,
        metric: tg.metrics.unHealthyHostCount({ period: minute, statistic: "Maximum" }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    });

    const relayMetric = (name: string, label: string) =>
      new cloudwatch.Metric({
        namespace: props.namespace,
        metricName: name,
        statistic: "Sum",
        period: Duration.minutes(5),
        label,
      });
    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      defaultInterval: Duration.hours(24),
    });
    const depth = (q: RelayQueue, label: string) => [
      q.queue.metricApproximateNumberOfMessagesVisible({ label, period: minute }),
      q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        label: `${label} DLQ`,
        period: minute,
      }),
    ];
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Queue depth",
        left: [...depth(props.submission, "Submission"), ...depth(props.delivery, "Delivery")],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Accepted messages (submission queue sends, incl. NDRs)",
        left: [
          props.submission.queue.metricNumberOfMessagesSent({
            label: "Accepted",
            period: Duration.minutes(5),
          }),
          relayMetric(EVENT_METRICS.ROUTE!, "Recipients routed"),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Recipients: delivered, deferred, bounced",
        left: [
          relayMetric(EVENT_METRICS.DELIVER!, "Delivered"),
          relayMetric(EVENT_METRICS.DEFER!, "Deferred"),
          relayMetric(EVENT_METRICS.FAIL!, "Bounced (NDR)"),
          relayMetric(EVENT_METRICS.EXPIRE!, "Expired"),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Oldest message age (s)",
        left: [
          props.submission.queue.metricApproximateAgeOfOldestMessage({ label: "Submission" }),
          props.delivery.queue.metricApproximateAgeOfOldestMessage({ label: "Delivery" }),
        ],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: "Alarms", alarms: this.alarms, width: 24 }),
    );
  }
}
