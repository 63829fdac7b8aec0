// Template tests of the alarms, dashboard and metrics wiring: names, dimensions and thresholds.
import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, test } from "vitest";
import { type Cfn, synthRelay, viewOf } from "./infra-app.ts";

let s: ReturnType<typeof viewOf>;
beforeAll(() => {
  s = viewOf(synthRelay());
});
const ofType = (type: string) => s.ofType(type);
const only = (type: string, idPrefix = "") => s.only(type, idPrefix);

describe("monitoring", () => {
  const alarms = () => ofType("AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);

  test("each DLQ alarms as soon as it holds a message", () => {
    const dlqAlarms = alarms().filter((a) => a.MetricName === "ApproximateNumberOfMessagesVisible");
    expect(dlqAlarms).toHaveLength(2);
    for (const a of dlqAlarms) {
      expect(a.Threshold).toBe(0);
      expect(a.ComparisonOperator).toBe("GreaterThanThreshold");
      const queueId = a.Dimensions[0].Value["Fn::GetAtt"][0];
      expect(s.resources[queueId]!.Properties.RedrivePolicy).toBeUndefined();
    }
  });

  test("oldest message age, function errors and listener health are alarmed, all notifying the topic", () => {
    const names = alarms().map((a) => a.MetricName);
    expect(names.filter((n) => n === "ApproximateAgeOfOldestMessage")).toHaveLength(2);
    expect(names.filter((n) => n === "Errors")).toHaveLength(2);
    expect(names.filter((n) => n === "UnHealthyHostCount")).toHaveLength(3);
    for (const a of alarms())
      expect(a.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MonitoringAlarms/) }]);
    s.template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
  });

  test("a dashboard shows queue depth, accepts, deliveries, deferrals and bounces, and both per send connector", () => {
    const dashboard = only("AWS::CloudWatch::Dashboard");
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const text of ["Queue depth", "NumberOfMessagesSent", "Delivered", "Deferred", "Failed"])
      expect(body).toContain(text);
    expect(body).toContain("Received");
    // The body is a join of text and tokens (queue names, region); the text alone is JSON.
    const text = (dashboard.Properties.DashboardBody["Fn::Join"][1] as unknown[])
      .map((part) => (typeof part === "string" ? part : "token"))
      .join("");
    const widgets = JSON.parse(text).widgets as Array<{ properties: { metrics?: unknown[][] } }>;
    const searches = widgets
      .flatMap((w) => w.properties.metrics ?? [])
      .flat()
      .map((m) => (m as { expression?: string }).expression ?? "")
      .filter((e) => e.startsWith("SEARCH"));
    // One line per send connector: SEARCH over the [service, SendConnector] dimension set.
    expect(searches).toEqual(
      ["Deferred", "Failed"].map(
        (name) =>
          `SEARCH('{ConnectorRelay,SendConnector,service} MetricName="${name}" service="${s.stackName}"', 'Sum', 300)`,
      ),
    );
  });

  test("deferral and bounce spikes alarm on rates of the relay's own counts, for this stack only", () => {
    const spikes = alarms().filter((a) => a.Metrics);
    expect(spikes).toHaveLength(2);
    const byThreshold = new Map(spikes.map((a) => [a.Threshold, a]));
    for (const [threshold, counted, periodSeconds, periods] of [
      [30, "Deferred", 300, 3],
      [5, "Failed", 900, 2],
    ] as const) {
      const a = byThreshold.get(threshold);
      expect(a, `alarm at ${threshold} %`).toBeDefined();
      expect(a.EvaluationPeriods).toBe(periods);
      expect(a.TreatMissingData).toBe("notBreaching");
      const stats = a.Metrics.filter((m: Cfn) => m.MetricStat).map((m: Cfn) => m.MetricStat);
      expect(stats.map((m: Cfn) => m.Metric.MetricName).sort()).toEqual([
        "Deferred",
        "Delivered",
        "Expired",
        "Failed",
      ]);
      for (const m of stats) {
        expect(m.Metric.Namespace).toBe("ConnectorRelay");
        expect(m.Metric.Dimensions).toEqual([{ Name: "service", Value: s.stackName }]);
        expect(m.Stat).toBe("Sum");
        expect(m.Period).toBe(periodSeconds);
      }
      const [expression] = a.Metrics.filter((m: Cfn) => m.Expression);
      expect(expression.Expression).toContain(counted);
      expect(expression.ReturnData).not.toBe(false);
      expect(a.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MonitoringAlarms/) }]);
    }
  });

  test("the listener and both functions name the stack as their metrics' service", () => {
    const fns = ofType("AWS::Lambda::Function").filter(
      ([, f]) => f.Properties.Environment?.Variables?.RELAY_SUBMISSION_QUEUE_URL,
    );
    expect(fns).toHaveLength(2);
    for (const [, f] of fns)
      expect(f.Properties.Environment.Variables.RELAY_METRICS_SERVICE).toBe(s.stackName);
    const [task] = ofType("AWS::ECS::TaskDefinition");
    const env = task![1].Properties.ContainerDefinitions[0].Environment as Array<{
      Name: string;
      Value: string;
    }>;
    expect(env).toContainEqual({ Name: "RELAY_METRICS_SERVICE", Value: s.stackName });
  });
});
