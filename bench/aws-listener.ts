// The Fargate listener for `npm run bench:aws`, in a process of its own so its CPU is its own: listener/main.ts's wiring with metered SDK clients.
// Environment: the stack's variables (adapters/aws/env.ts) plus BENCH_SQS, BENCH_S3, BENCH_DYNAMODB
// (emulator endpoints). Prints {"port": n} on stdout first; every later stdout byte is what Fargate
// would ship to CloudWatch Logs. Answers the IPC message "report" with its meter's figures.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { awsAdaptersFromEnv, SQS_CLIENT_SETTINGS } from "#adapters/aws/from-env.ts";
import { metricsFromEnv } from "#adapters/aws/metrics.ts";
import { PERIODIC_FLUSH_MS } from "#adapters/observability/metrics.ts";
import { listenerLog } from "#listener/logger.ts";
import { listenerConfigFromEnv } from "#listener/main.ts";
import { LogProtocolLog } from "#listener/protocol-log.ts";
import { runListener } from "#listener/run.ts";
import { AwsMeter } from "./aws-meter.ts";

const env = process.env;
const common = {
  region: "us-east-1",
  credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  maxAttempts: 1,
};
const clients = {
  sqs: new SQSClient({ ...common, ...SQS_CLIENT_SETTINGS, endpoint: env.BENCH_SQS }),
  s3: new S3Client({ ...common, endpoint: env.BENCH_S3, forcePathStyle: true }),
  dynamo: new DynamoDBClient({ ...common, endpoint: env.BENCH_DYNAMODB }),
  secretsManager: new SecretsManagerClient({ ...common, endpoint: env.BENCH_SQS }),
};
const meter = new AwsMeter();
meter.attach(clients.sqs, "sqs");
meter.attach(clients.s3, "s3");
meter.attach(clients.dynamo, "dynamodb");

const logger = listenerLog(process.stdout);
const adapters = awsAdaptersFromEnv(env, clients);
const running = await runListener(
  {
    records: adapters.recordCache,
    queue: adapters.submissionQueue,
    messageStore: adapters.messageStore,
    config: listenerConfigFromEnv(env),
    logger,
    metrics: metricsFromEnv(env, logger, { flushEveryMs: PERIODIC_FLUSH_MS }),
    protocolLog: new LogProtocolLog(logger),
  },
  { handleSignals: true },
);
process.stdout.write(`${JSON.stringify({ port: running.listener.addresses()[0]?.actualPort })}\n`);
process.on("message", (m) => {
  if (m === "report") process.send?.(meter.report());
  if (m === "reset") meter.reset();
});
