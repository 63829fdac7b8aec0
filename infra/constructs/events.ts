// The EventBridge bus delivery events go to (SES's event publishing to EventBridge): applications attach their own rules.
import { aws_events as events, type aws_iam as iam } from "aws-cdk-lib";
import { Construct } from "constructs";

/**
 * A custom bus of the relay's own, so rules and permissions for delivery events never mix with the
 * account's default bus. Events are published by the deliver function only (`grantPublish`);
 * `docs/aws.md` shows a rule that sends bounces to a queue.
 */
export class DeliveryEvents extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bus = new events.EventBus(this, "Bus", {
      description:
        "connector-relay delivery events: delivered, deferred, bounced, expired, suppressed",
    });
  }

  /** events:PutEvents on this bus and no other. */
  grantPublish(role: iam.IGrantable): void {
    this.bus.grantPutEventsTo(role);
  }
}
