// Builds the CDK app for infra tests offline: context from the committed cdk.json and cdk.context.json, bundling optional.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { buildApp } from "#infra/app.ts";
import type { RelayConfigInput } from "#infra/config.ts";
import type { RelayStack } from "#infra/stack.ts";

const root = join(import.meta.dirname, "..", "..");
const readJson = (file: string) =>
  JSON.parse(readFileSync(join(root, file), "utf8")) as Record<string, unknown>;

export function committedContext(): Record<string, unknown> {
  const cdk = readJson("cdk.json") as { context?: Record<string, unknown> };
  return { ...cdk.context, ...readJson("cdk.context.json") };
}

export interface SynthOptions {
  /** Stage of the committed cdk.json to build. @default "prod" (the production defaults) */
  stage?: string;
  /** Single settings given as `-c relay.<path>=<value>` would be, over the stage's. */
  relay?: RelayConfigInput;
  /** Further context, as `-c key=value` gives it (strings). */
  context?: Record<string, unknown>;
  /** Run esbuild for the functions (slower); off, the assets are placeholders. @default false */
  bundle?: boolean;
}

/** `{listener: {minTasks: 1}}` → `{"relay.listener.minTasks": 1}`: the keys `-c relay.<path>=...` sets. */
function settingKeys(settings: object, prefix = "relay"): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (typeof v === "object" && v !== null && !Array.isArray(v))
      Object.assign(out, settingKeys(v, `${prefix}.${k}`));
    else out[`${prefix}.${k}`] = v;
  }
  return out;
}

export function synthRelay(options: SynthOptions = {}): {
  app: App;
  stack: RelayStack;
  template: Template;
  outdir: string;
} {
  const outdir = mkdtempSync(join(tmpdir(), "relay-cdk-"));
  const app = new App({
    outdir,
    context: {
      ...committedContext(),
      stage: options.stage ?? "prod",
      ...settingKeys(options.relay ?? {}),
      ...options.context,
      ...(options.bundle ? {} : { "aws:cdk:bundling-stacks": [] }),
    },
  });
  const { stack } = buildApp(app);
  // Template.fromStack synthesises the app, which runs the cdk-nag plugin: a finding fails here.
  const template = Template.fromStack(stack);
  return { app, stack, template, outdir };
}

/** Template JSON as parsed: shapes vary per resource type, so properties stay untyped. */
export type Cfn = ReturnType<typeof JSON.parse>;
export type Resources = Record<string, { Type: string; Properties?: Cfn; DeletionPolicy?: string }>;

/** A synthesised stack with lookups by resource type and logical id prefix. */
export function viewOf(synth: ReturnType<typeof synthRelay>) {
  const resources = synth.template.toJSON().Resources as Resources;
  const ofType = (type: string) =>
    Object.entries(resources).filter(([, r]) => r.Type === type) as Array<
      [string, { Properties: Cfn; DeletionPolicy?: string }]
    >;
  return {
    template: synth.template,
    stackName: synth.stack.stackName,
    resources,
    ofType,
    /** The one resource of a type whose logical id starts with `idPrefix`. */
    only(type: string, idPrefix = "") {
      const found = ofType(type).filter(([id]) => id.startsWith(idPrefix));
      if (found.length !== 1)
        throw new Error(`${found.length} ${type} resources start with "${idPrefix}", not 1`);
      return (found[0] as [string, { Properties: Cfn; DeletionPolicy?: string }])[1];
    },
  };
}
