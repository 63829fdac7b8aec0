// CDK app entry (`cdk synth` runs `node infra/app.ts`): the relay stack from the "relay" context, checked by cdk-nag on every synth.
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { parseConfig, stackEnv } from "./config.ts";
import { RelayStack } from "./stack.ts";

export function buildApp(app = new App()): { app: App; stack: RelayStack } {
  const config = parseConfig(app.node.tryGetContext("relay"));
  const stack = new RelayStack(app, config.stackName, {
    config,
    env: stackEnv(config),
    description:
      "connector-relay: SMTP relay with Exchange-style connectors (listener, queues, route, deliver)",
  });
  // Any unacknowledged AwsSolutions finding fails the synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (import.meta.main) buildApp().app.synth();
