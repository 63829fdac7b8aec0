// The route and deliver Lambda functions (Node 24, arm64, ESM bundles) fed by their queues with partial batch responses.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface RelayFunctionProps {
  /** Path of the entry file, relative to the repository root, exporting `handler`. */
  entry: string;
  memoryMiB: number;
  timeout: Duration;
  environment: Record<string, string>;
  queue: sqs.IQueue;
  batchSize: number;
  /** Event source maximum concurrency: how many batches run at once. */
  maxConcurrency: number;
  logRetentionDays: number;
  /** Run in these private subnets (static egress through the NAT EIPs). @default outside any VPC */
  vpc?: { vpc: ec2.IVpc; securityGroup: ec2.ISecurityGroup };
  description: string;
}

/** esbuild settings shared by both functions: one ESM file, CommonJS dependencies given `require`. */
export const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: "node24",
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ["module", "main"],
  // nodemailer and other CommonJS packages call require(); an ESM bundle has none of its own.
  banner:
    "import { createRequire as __relayCreateRequire } from 'node:module'; const require = __relayCreateRequire(import.meta.url);",
  // The nodejs24.x runtime ships AWS SDK v3; leaving it out keeps each bundle far under 1 MB.
  externalModules: ["@aws-sdk/*", "@smithy/*"],
};

/** A queue-driven function: NodejsFunction + SQS event source with ReportBatchItemFailures. */
export class RelayFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RelayFunctionProps) {
    super(scope, id);
    // Retained on stack deletion: delivery logs are the audit trail; they still expire by retention.
    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.fn = new nodejs.NodejsFunction(this, "Function", {
      description: props.description,
      entry: join(REPO_ROOT, props.entry),
      handler: "handler",
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMiB,
      timeout: props.timeout,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...props.environment, NODE_OPTIONS: "--enable-source-maps" },
      bundling: BUNDLING,
      ...(props.vpc
        ? {
            vpc: props.vpc.vpc,
            vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            securityGroups: [props.vpc.securityGroup],
          }
        : {}),
    });
    this.fn.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: props.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );
    const managed = props.vpc
      ? ["AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole"]
      : ["AWSLambdaBasicExecutionRole"];
    for (const name of managed) {
      Validations.of(this.fn).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`,
        reason: `${name} is AWS's minimal managed policy for ${name.includes("VPC") ? "creating the function's network interfaces in the VPC" : "writing the function's CloudWatch logs"}; AWS keeps it current.`,
      });
    }
  }

  get role(): iam.IRole {
    return this.fn.role!;
  }
}
