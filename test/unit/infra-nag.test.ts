// cdk-nag AwsSolutions on the synthesised app: no unacknowledged finding, and every acknowledgement answers a real finding with a reason.
import { Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, test } from "vitest";
import type { RelayConfigInput } from "#infra/config.ts";
import { synthRelay } from "./infra-app.ts";

const ACK_PREFIX = "Annotation::";

/** Acknowledgements this project made (CDK adds its own "CloudFormation-Validate::" ones), by construct path. */
function acknowledgements(app: ReturnType<typeof synthRelay>["app"]) {
  const out: Array<{ path: string; id: string; reason: string }> = [];
  for (const c of app.node.findAll())
    for (const m of c.node.metadata)
      if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        for (const [key, reason] of Object.entries(m.data as Record<string, string>))
          if (key.startsWith(ACK_PREFIX))
            out.push({ path: c.node.path, id: key.slice(ACK_PREFIX.length), reason });
  return out;
}

describe.each<[string, RelayConfigInput]>([
  ["defaults", {}],
  [
    "smart-host-only with TLS and given EIPs",
    {
      smartHostOnly: true,
      mxDeliveryEnabled: false,
      tlsCertificate: true,
      egressEipAllocationIds: ["eipalloc-0a1b2c3d", "eipalloc-0e4f5a6b"],
    },
  ],
  [
    "NAT instances, no Container Insights",
    { egress: "nat-instance", listener: { containerInsights: false } },
  ],
])("cdk-nag AwsSolutions (%s)", (_name, relay) => {
  const { app } = synthRelay({ relay });

  test("the synthesised app has zero unacknowledged findings", () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });

  test("every acknowledgement gives a reason and matches a finding it suppresses", () => {
    // Run the pack again with acknowledgements ignored, to see every raw finding and where it is.
    const pack = new AwsSolutionsChecks(app);
    Object.defineProperty(pack, "isAcknowledged", { value: () => false });
    const raw = pack
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath ?? "" })),
      );
    expect(raw.length).toBeGreaterThan(0);
    for (const ack of acknowledgements(app)) {
      expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(40);
      const matched = raw.some(
        (f) => f.id === ack.id && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)),
      );
      expect(matched, `stale acknowledgement ${ack.id} on ${ack.path}`).toBe(true);
    }
  });
});
