// Alarms (DLQ depth, oldest message age, function errors, unhealthy listener, deferral and bounce spikes) and the relay's dashboard.
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
import { EVENT_METRICS } from "#core/usecases/counts.ts";
import { BOUNCE_SPIKE, DEFERRAL_SPIKE, MailFlowMetrics, RECEIVED_METRIC } from "./mail-flow.ts";
import type { RelayQueue } from "./queues.ts";

export interface RelayMonitoringProps {
  namespace: string;
  /** The `service` dimension the listener and functions put on their metrics (the stack name). */
  service: string;
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

    const flow = new MailFlowMetrics(props.namespace, props.service);
    for (const [id, spike, rate, what] of [
      ["DeferralSpike", DEFERRAL_SPIKE, flow.deferralRate(), "were deferred"],
      ["BounceSpike", BOUNCE_SPIKE, flow.bounceRate(), "failed (NDR) or expired"],
    ] as const) {
      alarm(id, {
        alarmDescription: `More than ${spike.percent} % of recipients ${what} in ${spike.periods} periods of ${spike.period} min running (at least ${spike.minRecipients} recipients each): see the dashboard's per-connector graphs, LastError in relay queue get, and the deliver function's logs.`,
        metric: rate,
        threshold: spike.percent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: spike.periods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
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
          flow.total(RECEIVED_METRIC, "Received by the listener"),
          flow.total(EVENT_METRICS.ROUTE, "Recipients routed"),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Recipients: delivered, deferred, bounced",
        left: [
          flow.total(EVENT_METRICS.DELIVER, "Delivered"),
          flow.total(EVENT_METRICS.DEFER, "Deferred"),
          flow.total(EVENT_METRICS.FAIL, "Failed (NDR)"),
          flow.total(EVENT_METRICS.EXPIRE, "Expired"),
        ],
        right: [flow.deferralRate(), flow.bounceRate()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Deferred by send connector",
        left: [flow.bySendConnector(EVENT_METRICS.DEFER)],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Failed (NDR) by send connector",
        left: [flow.bySendConnector(EVENT_METRICS.FAIL)],
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
