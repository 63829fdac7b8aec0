// Contract of the suppression list, shared by every adapter (memory, local SQLite, DynamoDB).
import { describe, expect, test } from "vitest";
import type { SuppressionEntry, SuppressionStore } from "#core/suppression/list.ts";

export interface SuppressionFixture {
  store: SuppressionStore;
  /** Moves the store's clock forward. */
  advance(ms: number): Promise<void>;
  /** A second handle on the same list (another deliver invocation, or the CLI beside the relay). */
  other?: SuppressionStore;
}

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const bounce = (recipient: string, days = 14): SuppressionEntry => ({
  recipient,
  since: new Date(T0).toISOString(),
  expiresAt: new Date(T0 + days * 86_400_000).toISOString(),
  source: "bounce",
  reason: "550 5.1.1 User unknown",
  remoteHost: "mx1.fabrikam.test[192.0.2.25]",
  enhanced: "5.1.1",
  messageId: "20261124T100000Z-0123456789ab",
  connector: "To Internet",
});

export function suppressionStoreContract(
  name: string,
  make: () => Promise<SuppressionFixture>,
): void {
  describe(`SuppressionStore contract: ${name}`, () => {
    test("an entry is found by address whatever its case, with every field as written", async () => {
      const { store, other } = await make();
      await store.put(bounce("Ann.Smith@Fabrikam.TEST"));
      const read = await (other ?? store).get("ann.smith@fabrikam.test");
      expect(read).toEqual(bounce("ann.smith@fabrikam.test"));
      expect(await store.get("ANN.SMITH@fabrikam.test")).toEqual(read);
      expect(await store.get("bob@fabrikam.test")).toBeUndefined();
    });

    test("list returns live entries ordered by address; a put replaces the entry", async () => {
      const { store } = await make();
      await store.put(bounce("zoe@fabrikam.test"));
      await store.put(bounce("ann@fabrikam.test"));
      await store.put({
        recipient: "ann@fabrikam.test",
        since: new Date(T0 + 1000).toISOString(),
        source: "admin",
        reason: "asked us to stop",
      });
      const listed = await store.list();
      expect(listed.map((e) => e.recipient)).toEqual(["ann@fabrikam.test", "zoe@fabrikam.test"]);
      expect(listed[0]).toEqual({
        recipient: "ann@fabrikam.test",
        since: new Date(T0 + 1000).toISOString(),
        source: "admin",
        reason: "asked us to stop",
      });
    });

    test("an entry past its expiry reads as absent; one without expiry stays", async () => {
      const { store, advance } = await make();
      await store.put(bounce("short@fabrikam.test", 1));
      const { expiresAt: _, ...forever } = bounce("forever@fabrikam.test");
      await store.put(forever);
      await advance(86_400_000 + 1000);
      expect(await store.get("short@fabrikam.test")).toBeUndefined();
      expect((await store.list()).map((e) => e.recipient)).toEqual(["forever@fabrikam.test"]);
      expect(await store.delete("short@fabrikam.test")).toBe(false);
    });

    test("delete says whether there was a live entry, and the address is no longer suppressed", async () => {
      const { store, other } = await make();
      await store.put(bounce("ann@fabrikam.test"));
      expect(await (other ?? store).delete("ANN@fabrikam.test")).toBe(true);
      expect(await store.get("ann@fabrikam.test")).toBeUndefined();
      expect(await store.delete("ann@fabrikam.test")).toBe(false);
      expect(await store.list()).toEqual([]);
    });
  });
}
