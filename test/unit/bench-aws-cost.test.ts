// The AWS-shape bench's arithmetic: cost per million = usage per message × list prices, and DynamoDB's index write rules.
import { describe, expect, test } from "vitest";
import { TRACKING_TABLE } from "#adapters/aws/table-design.ts";
import { indexWriteUnits, itemSize } from "../../bench/aws-capacity.ts";
import { costPerMillion, type UsagePerMessage } from "../../bench/aws-cost.ts";
import { AWS_PRICES } from "../../bench/aws-prices.ts";

const none: UsagePerMessage = {
  sqsRequests: 0,
  dynamoWriteUnits: 0,
  dynamoReadUnits: 0,
  dynamoStoredBytes: 0,
  s3Puts: 0,
  s3Gets: 0,
  secretsCalls: 0,
  lambda: { invocations: 0, gbSeconds: 0 },
  natBytes: 0,
  internetBytes: 0,
  logBytes: 0,
};

describe("costPerMillion", () => {
  test.each([
    ["SQS: 4 billed requests at $0.40 per million", { sqsRequests: 4 }, "sqs", 1.6],
    ["DynamoDB: 10 WRU at $0.625 per million", { dynamoWriteUnits: 10 }, "dynamoWrites", 6.25],
    ["DynamoDB: 2 RRU at $0.125 per million", { dynamoReadUnits: 2 }, "dynamoReads", 0.25],
    ["S3: one PUT at $0.005 and one GET at $0.0004 per 1,000", { s3Puts: 1, s3Gets: 1 }, "s3", 5.4],
    ["NAT: 100 kB at $0.045 per GB", { natBytes: 100_000 }, "nat", 4.5],
    ["Internet: 50 kB at $0.09 per GB", { internetBytes: 50_000 }, "internetOut", 4.5],
    ["Logs: 2 kB at $0.50 per GB", { logBytes: 2000 }, "logs", 1],
    [
      "Storage: 2 kB kept a month at $0.25 + $0.20 per GB",
      { dynamoStoredBytes: 2000 },
      "dynamoStorage",
      0.9,
    ],
    [
      "Lambda: 0.1 GB-s at $0.0000133334 and 0.2 invocations at $0.20 per million",
      { lambda: { invocations: 0.2, gbSeconds: 0.1 } },
      "lambda",
      1.373,
    ],
  ] as const)("%s", (_name, usage, item, dollars) => {
    const cost = costPerMillion({ ...none, ...usage });
    expect(cost.items[item]).toBeCloseTo(dollars, 3);
    expect(cost.total).toBeCloseTo(dollars, 2);
  });

  test("the total is the sum of the items, and without NAT drops only the NAT item", () => {
    const cost = costPerMillion({ ...none, sqsRequests: 5, natBytes: 200_000, logBytes: 1000 });
    expect(cost.total).toBeCloseTo(2 + 9 + 0.5, 2);
    expect(cost.totalWithoutNat).toBeCloseTo(2.5, 2);
  });

  test("prices are a parameter: doubling one price doubles only its item", () => {
    const prices = { ...AWS_PRICES, sqsPerMillionRequests: 0.8 };
    expect(costPerMillion({ ...none, sqsRequests: 4 }, prices).items.sqs).toBeCloseTo(3.2, 3);
  });
});

describe("DynamoDB index write units", () => {
  const active = [{ name: "active", partitionKey: "activeShard", sortKey: "receivedAt" }];
  const row = { pk: "MSG#1", sk: "RCPT#a", receivedAt: "2026-11-30", status: "Queued" };

  test("an item new in an index costs one write there; one without the key costs none", () => {
    expect(indexWriteUnits(active, undefined, { ...row, activeShard: "3" })).toBe(1);
    expect(indexWriteUnits(active, undefined, row)).toBe(0);
  });

  test("a projected attribute changed while in the index costs one write; leaving it costs one", () => {
    const before = { ...row, activeShard: "3" };
    expect(indexWriteUnits(active, before, { ...before, status: "Routed" })).toBe(1);
    expect(indexWriteUnits(active, before, { ...row, status: "Delivered" })).toBe(1);
    expect(indexWriteUnits(active, before, before)).toBe(0);
  });

  test("a changed index key costs two writes (delete and put)", () => {
    expect(
      indexWriteUnits(active, { ...row, activeShard: "3" }, { ...row, activeShard: "4" }),
    ).toBe(2);
  });

  test("each write is ceil(size / 1 KB) units", () => {
    const big = { ...row, activeShard: "3", detail: "x".repeat(1500) };
    expect(itemSize(big)).toBeGreaterThan(1024);
    expect(indexWriteUnits(active, undefined, big)).toBe(2);
  });

  test("the tracking table's indexes: a row created Routed is in none; its first attempt's write lists it in the sender and recipient indexes", () => {
    const indexes = Object.values(TRACKING_TABLE.indexes);
    const created = {
      ...row,
      status: "Routed",
      senderKey: "app@contoso.test",
      recipientKey: "a@fabrikam.test",
      events: [{ at: "2026-11-30T10:00:00Z", event: "ROUTE", source: "ROUTING" }],
    };
    expect(indexWriteUnits(indexes, undefined, created)).toBe(0);
    const delivered = {
      ...created,
      status: "Delivered",
      eventSort: "EVT#2026-11-30T10:00:01Z#ROW",
    };
    expect(indexWriteUnits(indexes, created, delivered)).toBe(2);
    // A row that waits is in the queue view too; leaving it at its final write costs one more.
    const deferred = { ...delivered, status: "Deferred", activeShard: "3" };
    expect(indexWriteUnits(indexes, created, deferred)).toBe(3);
    expect(indexWriteUnits(indexes, deferred, delivered)).toBe(3);
  });
});
