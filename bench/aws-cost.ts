// The cost per million messages from measured usage per message × the list prices of bench/aws-prices.ts.
import { AWS_PRICES, type AwsPrices } from "./aws-prices.ts";
import { round } from "./stats.ts";

/** What one message asked of AWS, on average (measured by bench/aws.ts). */
export interface UsagePerMessage {
  /** SQS requests as billed (64 KB chunks), every queue and caller (listener, pollers, functions). */
  sqsRequests: number;
  dynamoWriteUnits: number;
  dynamoReadUnits: number;
  /** Bytes of tracking items a message leaves in DynamoDB (kept for the tracking retention). */
  dynamoStoredBytes: number;
  s3Puts: number;
  s3Gets: number;
  secretsCalls: number;
  lambda: { invocations: number; gbSeconds: number };
  /** Through a NAT gateway: the listener's and deliver's traffic to AWS APIs without a gateway endpoint, and SMTP out. */
  natBytes: number;
  /** SMTP to the Internet (the recipients' servers). */
  internetBytes: number;
  /** JSON log and EMF lines shipped to CloudWatch Logs. */
  logBytes: number;
}

export type CostItem =
  | "sqs"
  | "lambda"
  | "dynamoWrites"
  | "dynamoReads"
  | "dynamoStorage"
  | "s3"
  | "secrets"
  | "nat"
  | "internetOut"
  | "logs";

export interface CostPerMillion {
  /** US dollars per million messages, by item, and in total. */
  items: Record<CostItem, number>;
  total: number;
  /** Without the NAT gateway's per-GB charge (NAT instances). */
  totalWithoutNat: number;
  /** The months a tracking item is stored (the tracking retention, 30 days by default). */
  retentionMonths: number;
}

const GB = 1e9;
const M = 1e6;

export function costPerMillion(
  u: UsagePerMessage,
  prices: AwsPrices = AWS_PRICES,
  retentionMonths = 1,
): CostPerMillion {
  const items: Record<CostItem, number> = {
    sqs: u.sqsRequests * prices.sqsPerMillionRequests,
    lambda:
      u.lambda.gbSeconds * M * prices.lambdaPerGbSecond +
      u.lambda.invocations * prices.lambdaPerMillionRequests,
    dynamoWrites: u.dynamoWriteUnits * prices.dynamoPerMillionWriteUnits,
    dynamoReads: u.dynamoReadUnits * prices.dynamoPerMillionReadUnits,
    dynamoStorage:
      ((u.dynamoStoredBytes * M) / GB) *
      retentionMonths *
      (prices.dynamoStoragePerGbMonth + prices.dynamoPitrPerGbMonth),
    s3: u.s3Puts * 1000 * prices.s3PerThousandPuts + u.s3Gets * 1000 * prices.s3PerThousandGets,
    secrets: u.secretsCalls * 100 * prices.secretsPerTenThousandCalls,
    nat: ((u.natBytes * M) / GB) * prices.natPerGbProcessed,
    internetOut: ((u.internetBytes * M) / GB) * prices.internetOutPerGb,
    logs: ((u.logBytes * M) / GB) * prices.logsPerGbIngested,
  };
  const total = Object.values(items).reduce((a, b) => a + b, 0);
  return {
    items: Object.fromEntries(Object.entries(items).map(([k, v]) => [k, round(v, 3)])) as Record<
      CostItem,
      number
    >,
    total: round(total, 2),
    totalWithoutNat: round(total - items.nat, 2),
    retentionMonths,
  };
}
