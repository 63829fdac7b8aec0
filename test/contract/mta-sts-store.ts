// Contract of the MTA-STS policy cache, shared by the memory, local SQLite and DynamoDB adapters.
import { describe, expect, test } from "vitest";
import type { CachedMtaStsPolicy } from "#core/tls-policy/mta-sts.ts";
import type { MtaStsPolicyStore } from "#core/tls-policy/ports.ts";

const policy = (id: string, mx: string[]): CachedMtaStsPolicy => ({
  domain: "contoso.com",
  id,
  mode: "enforce",
  mx,
  maxAgeSeconds: 86_400,
  fetchedAt: "2026-11-24T10:00:00.000Z",
  expiresAt: "2026-11-25T10:00:00.000Z",
});

export function mtaStsPolicyStoreContract(
  name: string,
  make: () => Promise<MtaStsPolicyStore>,
): void {
  describe(`MtaStsPolicyStore contract: ${name}`, () => {
    test("get of an unknown domain is undefined; put then get (domain case-insensitive); put replaces", async () => {
      const s = await make();
      expect(await s.get("contoso.com")).toBeUndefined();
      await s.put(policy("20261124", ["mx1.contoso.com", "*.mail.contoso.com"]));
      expect(await s.get("CONTOSO.com")).toEqual(
        policy("20261124", ["mx1.contoso.com", "*.mail.contoso.com"]),
      );
      await s.put(policy("20261201", ["mx2.contoso.com"]));
      expect(await s.get("contoso.com")).toMatchObject({ id: "20261201", mx: ["mx2.contoso.com"] });
      expect(await s.get("fabrikam.com")).toBeUndefined();
    });
  });
}
