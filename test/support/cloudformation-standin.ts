// A stand-in for CloudFormation's DescribeStacks on loopback, speaking the service's real wire protocol (AWS Query: form-encoded POST, XML answers).
//
// No CloudFormation emulator exists that runs here (LocalStack and moto need Python), so this is
// the smallest honest stand-in: one action, the answer and error shapes of the API reference, and
// every request recorded so a test can see what the SDK sent.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface CloudFormationStandIn {
  /** "http://127.0.0.1:port", for AWS_ENDPOINT_URL_CLOUDFORMATION. */
  readonly endpoint: string;
  /** Stacks by name: their outputs by OutputKey. */
  readonly stacks: Map<string, Record<string, string>>;
  /** Each request's form parameters. */
  readonly requests: URLSearchParams[];
  close(): Promise<void>;
}

const xml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

function describeStacks(name: string, outputs: Record<string, string>): string {
  const members = Object.entries(outputs)
    .map(
      ([k, v]) =>
        `<member><OutputKey>${xml(k)}</OutputKey><OutputValue>${xml(v)}</OutputValue></member>`,
    )
    .join("");
  return `<DescribeStacksResponse xmlns="${NS}"><DescribeStacksResult><Stacks><member><StackName>${xml(name)}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${xml(name)}/6f1e7a70-0000-11f0-0000-0a1b2c3d4e5f</StackId><CreationTime>2026-11-24T10:00:00.000Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>b9b4b068-3a41-11e5-94eb-example</RequestId></ResponseMetadata></DescribeStacksResponse>`;
}

function error(code: string, message: string): string {
  return `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>b9b4b068-3a41-11e5-94eb-example</RequestId></ErrorResponse>`;
}

export async function startCloudFormationStandIn(
  stacks: Record<string, Record<string, string>> = {},
): Promise<CloudFormationStandIn> {
  const known = new Map(Object.entries(stacks));
  const requests: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      requests.push(form);
      const reply = (status: number, body: string) => {
        res.writeHead(status, { "content-type": "text/xml" });
        res.end(body);
      };
      if (req.method !== "POST" || form.get("Action") !== "DescribeStacks")
        return reply(400, error("InvalidAction", `${form.get("Action")} is not served here`));
      const name = form.get("StackName") ?? "";
      const outputs = known.get(name);
      // CloudFormation's own answer for a stack that does not exist.
      if (!outputs)
        return reply(400, error("ValidationError", `Stack with id ${name} does not exist`));
      reply(200, describeStacks(name, outputs));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stacks: known,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
