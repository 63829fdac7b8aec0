// The relay's own metrics in CloudWatch terms: service totals, per-connector graphs (SEARCH), and the deferral and bounce rates the spike alarms watch.
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { EVENT_METRICS } from "#core/usecases/counts.ts";

/** Counted by the listener per receive connector (messages accepted with 250). */
export const RECEIVED_METRIC = "Received";

/**
 * A deferral spike: more than 30 % of the recipients attempted in each of three 5-minute periods
 * were deferred. Greylisting defers a first attempt to a new sender/recipient pair and a busy MX
 * answers 4xx now and then, so a few per cent (even 10–20 % right after a new sender starts) is
 * normal; a third of all attempts for a quarter of an hour means a blocklisting, a smart host
 * refusing us (auth, quota) or outbound port 25 being closed. Periods with fewer than 10 attempts
 * never alarm: two deferrals out of three messages at night are not a spike.
 */
export const DEFERRAL_SPIKE = { percent: 30, minRecipients: 10, period: 5, periods: 3 } as const;

/**
 * A bounce spike: more than 5 % of the recipients with an outcome in each of two 15-minute periods
 * failed (NDR) or expired. 5 % is where Amazon SES puts a sending account under review, a figure
 * an admin comparing with SES knows; application mail normally bounces 1–2 % (typos, people who
 * left). At least 20 outcomes per period, so one bad address in a quiet hour does not page anyone.
 */
export const BOUNCE_SPIKE = { percent: 5, minRecipients: 20, period: 15, periods: 2 } as const;

export class MailFlowMetrics {
  readonly namespace: string;
  /** The `service` dimension: the stack name (RELAY_METRICS_SERVICE). */
  readonly service: string;

  constructor(namespace: string, service: string) {
    this.namespace = namespace;
    this.service = service;
  }

  /** A count summed over all connectors: the [service] dimension set every count is also published in. */
  total(name: string, label: string, period = Duration.minutes(5)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { service: this.service },
      statistic: "Sum",
      period,
      label,
    });
  }

  /** One line per send connector (dashboards only: alarms cannot use SEARCH). */
  bySendConnector(name: string, period = Duration.minutes(5)): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${this.namespace},SendConnector,service} MetricName="${name}" service="${this.service}"', 'Sum', ${period.toSeconds()})`,
      label: "",
      period,
    });
  }

  /**
   * Percentage of `part` among recipients with an outcome; 0 below `min` outcomes. Each rate names
   * its metrics with its own prefix: one graph may show both, and ids must be unique in it.
   */
  #rate(
    prefix: string,
    part: "deferred" | "bounced",
    min: number,
    minutes: number,
    label: string,
  ): cloudwatch.MathExpression {
    const period = Duration.minutes(minutes);
    const metric = (event: keyof typeof EVENT_METRICS) =>
      this.total(EVENT_METRICS[event], EVENT_METRICS[event], period);
    const ids = {
      delivered: `${prefix}Delivered`,
      deferred: `${prefix}Deferred`,
      failed: `${prefix}Failed`,
      expired: `${prefix}Expired`,
    };
    // A count with no data in a period was zero (EMF writes nothing when nothing happened).
    const filled = (names: string[]) => names.map((id) => `FILL(${id}, 0)`).join(" + ");
    const all = filled(Object.values(ids));
    const counted =
      part === "deferred" ? filled([ids.deferred]) : filled([ids.failed, ids.expired]);
    return new cloudwatch.MathExpression({
      expression: `IF((${all}) >= ${min}, 100 * (${counted}) / (${all}), 0)`,
      usingMetrics: {
        [ids.delivered]: metric("DELIVER"),
        [ids.deferred]: metric("DEFER"),
        [ids.failed]: metric("FAIL"),
        [ids.expired]: metric("EXPIRE"),
      },
      period,
      label,
    });
  }

  deferralRate(): cloudwatch.MathExpression {
    const s = DEFERRAL_SPIKE;
    return this.#rate(
      "deferralRate",
      "deferred",
      s.minRecipients,
      s.period,
      "Deferred (% of attempted)",
    );
  }

  bounceRate(): cloudwatch.MathExpression {
    const s = BOUNCE_SPIKE;
    return this.#rate(
      "bounceRate",
      "bounced",
      s.minRecipients,
      s.period,
      "Failed or expired (% of outcomes)",
    );
  }
}
