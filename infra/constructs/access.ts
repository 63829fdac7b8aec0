// Least-privilege IAM for the relay's parts: exact actions on exact resources, each unavoidable wildcard acknowledged with its reason.
import { type CfnElement, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { TRACKING_TABLE } from "#adapters/aws/table-design.ts";
import type { RelayStorage } from "./storage.ts";

export interface RelayAccess {
  /** Queues the part sends to. */
  sendTo: sqs.IQueue[];
  /** Claim-check bodies: read them, or also write and delete them. */
  bodies: "read" | "readWrite";
  /** Read connector records; the CLI, not the relay, writes them. */
  records: boolean;
  tracking: boolean;
  /** Read secrets under the prefix (smart-host credentials, TLS key). */
  secrets: boolean;
}

function logicalRef(element: Construct): string {
  return `<${Stack.of(element).getLogicalId(element.node.defaultChild as CfnElement)}.Arn>`;
}

/** Adds the statements to `role` and acknowledges the wildcard findings on `owner` (the construct holding the role). */
export function grantRelayAccess(
  owner: Construct,
  role: iam.IRole,
  storage: RelayStorage,
  access: RelayAccess,
): void {
  const add = (actions: string[], resources: string[]) =>
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
  if (access.sendTo.length)
    add(
      ["sqs:SendMessage", "sqs:GetQueueAttributes"],
      access.sendTo.map((q) => q.queueArn),
    );
  add(
    access.bodies === "read"
      ? ["s3:GetObject"]
      : ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
    [storage.bodyBucket.arnForObjects("*")],
  );
  Validations.of(owner).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${logicalRef(storage.bodyBucket)}/*]`,
    reason:
      "Claim-check objects are keyed by message id, unknown in advance; access is limited to objects of the relay's own body bucket.",
  });
  if (access.records) add(["dynamodb:GetItem", "dynamodb:Scan"], [storage.recordTable.tableArn]);
  if (access.tracking) {
    const table = storage.trackingTable.tableArn;
    add(
      ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
      [table, ...Object.values(TRACKING_TABLE.indexes).map((ix) => `${table}/index/${ix.name}`)],
    );
  }
  if (access.secrets) {
    const arn = storage.secretArnPattern();
    add(["secretsmanager:GetSecretValue"], [arn]);
    Validations.of(owner).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${storage.nagSecretResource()}]`,
      reason:
        "Smart-host credentials are named by send connector records an admin adds at run time, and Secrets Manager appends a random suffix to every ARN; the wildcard covers only this relay's prefix.",
    });
  }
}
