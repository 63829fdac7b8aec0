// Template test: the stack outputs `relay --stack` reads exist under the names the CLI reads, each pointing at the right resource.
import { beforeAll, describe, expect, test } from "vitest";
import { egressIpsOf, STACK_OUTPUTS } from "#cli/stack.ts";
import { synthRelay } from "./infra-app.ts";

type Cfn = ReturnType<typeof JSON.parse>;
let outputs: Record<string, { Value: Cfn }>;
let resources: Record<string, { Type: string; Properties?: Cfn }>;

beforeAll(() => {
  const json = synthRelay().template.toJSON();
  outputs = json.Outputs;
  resources = json.Resources;
  // Synthesis runs cdk-nag over the whole app: seconds on a busy machine.
}, 180_000);

/** The logical id and type of the resource an output's { Ref } or { Fn::GetAtt } names. */
const target = (key: string) => {
  const value = outputs[key]?.Value;
  const id: string = value?.Ref ?? value?.["Fn::GetAtt"]?.[0];
  return { id, type: resources[id]?.Type, properties: resources[id]?.Properties };
};

describe("outputs for relay --stack", () => {
  test("every output the CLI reads is in the template", () => {
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(Object.keys(STACK_OUTPUTS)));
  });

  test("tables, queues, dead-letter queues and the bucket point at resources of that type", () => {
    expect(target("RecordTable").type).toBe("AWS::DynamoDB::Table");
    expect(target("TrackingTable").type).toBe("AWS::DynamoDB::Table");
    expect(target("RecordTable").id).not.toBe(target("TrackingTable").id);
    expect(target("BodyBucket").type).toBe("AWS::S3::Bucket");
    // A queue's Ref is its URL; the sources redrive to the DLQs named beside them.
    for (const [queue, dlq] of [
      ["SubmissionQueueUrl", "SubmissionDlqUrl"],
      ["DeliveryQueueUrl", "DeliveryDlqUrl"],
    ] as const) {
      expect(target(queue).type).toBe("AWS::SQS::Queue");
      expect(target(dlq).type).toBe("AWS::SQS::Queue");
      const redrive = target(queue).properties.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"][0];
      expect(redrive).toBe(target(dlq).id);
    }
    expect(target("SubmissionQueueUrl").id).not.toBe(target("DeliveryQueueUrl").id);
    expect(typeof outputs.SecretPrefix?.Value).toBe("string");
  });

  test("the egress IPs doctor checks are the EgressIp outputs", () => {
    const keys = Object.keys(outputs).filter((k) => /^EgressIp\d+$/.test(k));
    expect(keys.length).toBeGreaterThan(0);
    expect(egressIpsOf(Object.fromEntries(keys.map((k) => [k, k])))).toEqual(keys.sort());
  });
});
