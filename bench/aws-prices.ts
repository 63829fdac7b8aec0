// AWS list prices (us-east-1, on demand) for the cost per million messages: the one place they are written.
// Checked 2026-11-30 against the prices AWS published in 2025 (no live access to the price pages
// from this machine): confirm in the AWS Pricing Calculator before budgeting. docs/aws.md quotes
// the results computed from these, not its own copies.

export const PRICES_CHECKED = "2026-11-30";

export const AWS_PRICES = {
  /** https://aws.amazon.com/lambda/pricing/ — Arm (the stack's functions run on arm64). */
  lambdaPerGbSecond: 0.000_013_333_4,
  lambdaPerMillionRequests: 0.2,
  /** https://aws.amazon.com/sqs/pricing/ — standard queues; each 64 KB chunk of a payload is one request. */
  sqsPerMillionRequests: 0.4,
  /** https://aws.amazon.com/dynamodb/pricing/on-demand/ — standard table class, since the November 2024 cut. */
  dynamoPerMillionWriteUnits: 0.625,
  dynamoPerMillionReadUnits: 0.125,
  /** Same page: storage, and continuous backups (point-in-time recovery), per GB-month. */
  dynamoStoragePerGbMonth: 0.25,
  dynamoPitrPerGbMonth: 0.2,
  /** https://aws.amazon.com/s3/pricing/ — S3 Standard: PUT/COPY/POST/LIST and GET/SELECT; DELETE is free. */
  s3PerThousandPuts: 0.005,
  s3PerThousandGets: 0.0004,
  /** https://aws.amazon.com/secrets-manager/pricing/ */
  secretsPerTenThousandCalls: 0.05,
  /** https://aws.amazon.com/vpc/pricing/ — NAT gateway data processing (gateway endpoints are free). */
  natPerGbProcessed: 0.045,
  /** https://aws.amazon.com/cloudwatch/pricing/ — Logs, standard class, ingestion. */
  logsPerGbIngested: 0.5,
  /** https://aws.amazon.com/ec2/pricing/on-demand/ — data transfer out to the Internet, first 10 TB a month. */
  internetOutPerGb: 0.09,
} as const;

export type AwsPrices = { [K in keyof typeof AWS_PRICES]: number };
