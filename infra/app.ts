// CDK app entry (`cdk synth` runs `node infra/app.ts`): one relay stack per stage (`-c stage=prod`), checked by cdk-nag on every synth.
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { RelayConfigError, stackEnv } from "./config.ts";
import { resolveSettings } from "./context.ts";
import { RelayStack } from "./stack.ts";

export function buildApp(app = new App()): { app: App; stack: RelayStack } {
  const { config, stage } = resolveSettings(app.node.getAllContext());
  const stack = new RelayStack(app, config.stackName, {
    config,
    env: stackEnv(config),
    description:
      "connector-relay: SMTP relay with Exchange-style connectors (listener, queues, route, deliver)",
    // Cost allocation and the console tell the stages apart by this tag.
    ...(stage ? { tags: { "connector-relay:stage": stage } } : {}),
  });
  // Any unacknowledged AwsSolutions finding fails the synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (import.meta.main) {
  try {
    buildApp().app.synth();
  } catch (error) {
    // A settings problem is the user's to fix: print the message, not a stack trace.
    if (error instanceof RelayConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}
