// The deployment's settings: one typed object with documented defaults, overridable from CDK context key "relay".
import { z } from "zod";
import { DEFAULT_MAX_RECEIVE_COUNT } from "#core/queue-limits.ts";

/** Account and region the committed cdk.context.json answers AZ lookups for, so `npm run synth` needs no AWS access. */
export const PLACEHOLDER_ENV = { account: "111111111111", region: "us-east-1" } as const;

export const DEFAULT_STACK_NAME = "ConnectorRelay";

const positive = z.number().int().positive();

export const RelayConfigSchema = z
  .strictObject({
    /** Stack name; with stages, `<stackName>-<stage>` unless the stage names it (infra/context.ts). @default "ConnectorRelay" */
    stackName: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9-]{0,127}$/,
        "a CloudFormation stack name: a letter, then letters, digits and -",
      )
      .default(DEFAULT_STACK_NAME),
    /** @default CDK_DEFAULT_ACCOUNT, else the placeholder 111111111111 (synth only) */
    account: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    /** @default CDK_DEFAULT_REGION, else us-east-1 */
    region: z.string().min(1).optional(),
    /**
     * Domains the relay sends for: the stack outputs a ready SPF record naming the egress IPs for
     * each (AcceptedDomain records are still made by the admin, docs/aws.md step 6). @default []
     */
    domains: z
      .array(
        z.string().regex(/^(?!-)[a-z0-9-]{1,63}(\.(?!-)[a-z0-9-]{1,63})+$/i, "not a domain name"),
      )
      .max(20)
      .default([]),
    /** FQDN the relay greets with and that the egress IPs' PTR records must name. @default "relay.example.com" */
    hostName: z.string().min(1).default("relay.example.com"),
    /**
     * Whether the secret `<stackName in lower case>/tls` exists, holding the listener's certificate as
     * JSON {"cert": PEM chain, "key": PEM} (docs/aws.md, step 2). @default false: no STARTTLS, and
     * port 465 cannot complete a handshake
     */
    tlsCertificate: z.boolean().default(false),
    /** Ports the NLB listens on; each is forwarded to the same port on the listener. */
    ports: z
      .strictObject({
        /** Default receive connector (anonymous, accepted domains). @default 25 */
        smtp: positive.default(25),
        /** Client receive connector, AUTH after STARTTLS. @default 587 */
        submission: positive.default(587),
        /** Implicit TLS (RFC 8314). @default 465 */
        submissions: positive.default(465),
      })
      .prefault({}),
    /** Exchange's default maximum message size. @default 36 */
    maxMessageSizeMb: positive.default(36),
    /** Bodies above this size go to S3 (claim check); SQS messages max out at 1 MiB with the envelope. @default 196608 */
    claimCheckThresholdBytes: positive.max(900_000).default(192 * 1024),
    /** Days each kind of data is kept. */
    retention: z
      .strictObject({
        /** SQS message retention, the maximum. @default 14 */
        queueDays: positive.max(14).default(14),
        /** S3 lifecycle expiry of claim-check bodies; must outlast message expiry (2 days). @default 7 */
        bodyDays: positive.default(7),
        /** Tracking rows and events (DynamoDB TTL), Exchange's MessageTrackingLogMaxAge. @default 30 */
        trackingDays: positive.default(30),
        /** CloudWatch log groups. @default 30 */
        logDays: positive.default(30),
      })
      .prefault({}),
    /**
     * Deliver to MX hosts on port 25. Needs AWS's port-25 removal for the NAT Elastic IPs
     * (docs/aws.md). @default true
     */
    mxDeliveryEnabled: z.boolean().default(true),
    /**
     * Ports the deliver function may reach smart hosts on (its security group allows nothing else
     * outbound besides HTTPS and DNS; 25 is added when mxDeliveryEnabled). @default [465, 587, 2525]
     */
    smartHostPorts: z
      .array(
        z
          .number()
          .int()
          .min(1)
          .max(65535)
          .refine((p) => p !== 25, { message: "port 25 is governed by mxDeliveryEnabled" }),
      )
      .default([465, 587, 2525]),
    /** Deliver through smart hosts only (587/465); MX send connectors are refused. @default false */
    smartHostOnly: z.boolean().default(false),
    /**
     * How the private subnets reach the Internet from static Elastic IPs: managed NAT gateways, or
     * NAT instances (a small Graviton EC2 instance per AZ: a tenth of the hourly price and no per-GB
     * charge, but one instance's throughput, and a failed instance stops its AZ's egress until EC2
     * recovers it; docs/aws.md, cost model). @default "nat-gateway"
     */
    egress: z.enum(["nat-gateway", "nat-instance"]).default("nat-gateway"),
    /** NAT gateways or NAT instances, one per AZ (2 keeps egress up when an AZ fails; 1 halves that cost). @default 2 */
    natGateways: z.number().int().min(1).max(2).default(2),
    /**
     * An SQS interface endpoint in the private subnets, so the listener's and deliver's queue
     * traffic (about half of what crosses the NAT per message) skips the NAT's per-GB charge. It
     * costs an hourly fee per AZ: worth it above about 8 million messages a month with NAT
     * gateways, never with NAT instances (docs/aws.md, cost model). @default false
     */
    sqsEndpoint: z.boolean().default(false),
    /** EC2 instance type of the NAT instances (egress "nat-instance"). @default "t4g.nano" */
    natInstanceType: z
      .string()
      .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "not an EC2 instance type, e.g. t4g.nano")
      .default("t4g.nano"),
    /**
     * Existing Elastic IP allocation ids for the NAT gateways or instances, e.g. the retained ones of an earlier
     * deployment, so SPF, PTR, port-25 approval and smart-host allow lists stay valid. @default new EIPs
     */
    egressEipAllocationIds: z.array(z.string().regex(/^eipalloc-[0-9a-f]+$/)).optional(),
    listener: z
      .strictObject({
        /** Fargate CPU units. @default 512 */
        cpu: positive.default(512),
        /** @default 1024 */
        memoryMiB: positive.default(1024),
        /** Tasks always running (one per AZ). @default 2 */
        minTasks: positive.default(2),
        /** @default 6 */
        maxTasks: positive.default(6),
        /** Scale out above this average CPU. @default 60 */
        targetCpuPercent: positive.max(100).default(60),
        /** CloudWatch Container Insights (per-task CPU, memory, network metrics, billed as custom metrics). @default true */
        containerInsights: z.boolean().default(true),
      })
      .prefault({}),
    route: z
      .strictObject({
        /** @default 512 */
        memoryMiB: positive.default(512),
        /** @default 30 */
        timeoutSeconds: positive.max(900).default(30),
        /** Messages per invocation. @default 10 */
        batchSize: positive.max(10).default(10),
        /** Event source maximum concurrency (2..1000). @default 10 */
        maxConcurrency: z.number().int().min(2).max(1000).default(10),
      })
      .prefault({}),
    deliver: z
      .strictObject({
        /** @default 1024 */
        memoryMiB: positive.default(1024),
        /** Covers the slowest remote SMTP server (RFC 5321 §4.5.3.2 timeouts add up to minutes). @default 300 */
        timeoutSeconds: positive.max(900).default(300),
        /** @default 5 */
        batchSize: positive.max(10).default(5),
        /** Caps parallel SMTP connections to the world. @default 20 */
        maxConcurrency: z.number().int().min(2).max(1000).default(20),
      })
      .prefault({}),
    /** Receives before a queue message moves to its DLQ (each delivery retry is a new message). @default 5 */
    maxReceiveCount: positive.default(DEFAULT_MAX_RECEIVE_COUNT),
    /** Seconds of the oldest submission/delivery message before the age alarm fires. @default 900 */
    oldestMessageAlarmSeconds: positive.default(900),
    /** E-mail address subscribed to the alarm topic. @default none */
    alarmEmail: z.string().email().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.smartHostOnly && c.mxDeliveryEnabled)
      ctx.addIssue({
        code: "custom",
        path: ["smartHostOnly"],
        message: "smartHostOnly excludes MX delivery; set mxDeliveryEnabled to false as well",
      });
    if (c.listener.minTasks > c.listener.maxTasks)
      ctx.addIssue({
        code: "custom",
        path: ["listener", "minTasks"],
        message: "minTasks exceeds maxTasks",
      });
    if (c.egressEipAllocationIds && c.egressEipAllocationIds.length !== c.natGateways)
      ctx.addIssue({
        code: "custom",
        path: ["egressEipAllocationIds"],
        message: `give one allocation id per NAT gateway or instance (natGateways: ${c.natGateways})`,
      });
    if (c.retention.bodyDays < 3)
      ctx.addIssue({
        code: "custom",
        path: ["retention", "bodyDays"],
        message: "bodies must outlive message expiry (2 days) plus the last retry",
      });
    const ports = Object.values(c.ports);
    if (new Set(ports).size !== ports.length)
      ctx.addIssue({ code: "custom", path: ["ports"], message: "ports must differ" });
  });

export type RelayConfig = z.infer<typeof RelayConfigSchema>;
export type RelayConfigInput = z.input<typeof RelayConfigSchema>;

/** A setting or context value the app cannot use; the message names the key and the fix. */
export class RelayConfigError extends Error {
  override name = "RelayConfigError";
}

/**
 * Parses and checks settings; conflicting ones fail here, before any resource is made. Each problem
 * names its key (`relay.listener.minTasks`) and, when `sourceOf` knows it, where the value came from.
 */
export function parseConfig(
  raw: unknown = {},
  sourceOf: (path: string) => string | undefined = () => undefined,
): RelayConfig {
  const result = RelayConfigSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    const path = i.path.map(String).join(".");
    // An unknown key is reported on its parent object: look up where the key itself came from.
    const keys =
      i.code === "unrecognized_keys"
        ? i.keys.map((k) => [path, k].filter(Boolean).join("."))
        : [path];
    const source = keys.map((k) => (k ? sourceOf(k) : undefined)).find(Boolean);
    return `relay.${path || "(root)"}: ${i.message}${source ? ` (from ${source})` : ""}`;
  });
  throw new RelayConfigError(`invalid settings (context "relay"):\n  ${lines.join("\n  ")}`);
}

export function stackEnv(config: RelayConfig): { account: string; region: string } {
  return {
    account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT ?? PLACEHOLDER_ENV.account,
    region: config.region ?? process.env.CDK_DEFAULT_REGION ?? PLACEHOLDER_ENV.region,
  };
}
