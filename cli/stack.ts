// `--stack NAME`: the deployed stack's table, queue and bucket names, read from its CloudFormation outputs.
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import type { AwsFlag, Flags } from "./args.ts";
import { UsageError } from "./errors.ts";

/** The stack outputs the CLI reads (infra/stack.ts writes them) and the flag each stands for. */
export const STACK_OUTPUTS: Record<string, AwsFlag> = {
  RecordTable: "record-table",
  TrackingTable: "tracking-table",
  LimitsTable: "limits-table",
  SubmissionQueueUrl: "submission-queue-url",
  DeliveryQueueUrl: "delivery-queue-url",
  SubmissionDlqUrl: "submission-dlq-url",
  DeliveryDlqUrl: "delivery-dlq-url",
  BodyBucket: "body-bucket",
  SecretPrefix: "secret-prefix",
};

/** Egress IPs are outputs EgressIp1, EgressIp2, ... (one per NAT gateway). */
export const egressIpsOf = (outputs: Record<string, string>): string[] =>
  Object.entries(outputs)
    .filter(([k]) => /^EgressIp\d+$/.test(k))
    .sort(([a], [b]) => Number(a.slice(8)) - Number(b.slice(8)))
    .map(([, v]) => v);

/** Every output of the stack, by OutputKey. Throws UsageError naming --stack when it is not there. */
export async function readStackOutputs(
  stackName: string,
  region?: string,
): Promise<Record<string, string>> {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName) && !stackName.startsWith("arn:"))
    throw new UsageError(
      `--stack: "${stackName}" is not a stack name (letters, digits and hyphens, starting with a letter)`,
    );
  const client = new CloudFormationClient(region ? { region } : {});
  try {
    const r = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = r.Stacks?.[0];
    if (!stack) throw new UsageError(`--stack: stack "${stackName}" not found`);
    const outputs: Record<string, string> = {};
    for (const o of stack.Outputs ?? [])
      if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
    return outputs;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const e = error as Error;
    // CloudFormation answers an unknown stack with ValidationError "Stack with id X does not exist".
    if (e.name === "ValidationError" && /does not exist/.test(e.message))
      throw new UsageError(
        `--stack: stack "${stackName}" does not exist in ${await client.config.region()}; check the name (cdk list) and --region`,
      );
    throw new Error(`--stack: could not read the outputs of stack "${stackName}": ${e.message}`);
  } finally {
    client.destroy();
  }
}

/** The flags with each missing name taken from the stack's outputs: a flag given wins over the stack. */
export function applyStackOutputs(flags: Flags, outputs: Record<string, string>): Flags {
  const out: Flags = { ...flags, aws: true };
  for (const [key, flag] of Object.entries(STACK_OUTPUTS))
    if (out[flag] === undefined && outputs[key] !== undefined) out[flag] = outputs[key];
  return out;
}
