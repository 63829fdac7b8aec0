// Contract every TrackingStore adapter passes (memory, local SQLite, DynamoDB via dynalite).
import { describe, expect, test } from "vitest";
import type { RecipientRow, TrackingStore } from "#core/ports.ts";

const row = (over: Partial<RecipientRow> = {}): RecipientRow => ({
  messageId: "m1",
  recipient: "Alice@Contoso.com",
  sender: "app@fabrikam.com",
  status: "Routed",
  receivedAt: "2026-11-24T10:00:00.000Z",
  updatedAt: "2026-11-24T10:00:00.000Z",
  attempts: 0,
  ...over,
});

export function trackingStoreContract(name: string, make: () => Promise<TrackingStore>): void {
  describe(`TrackingStore contract: ${name}`, () => {
    test("create writes once; a second create for the same recipient (any case) is refused", async () => {
      const s = await make();
      expect(await s.create(row())).toBe(true);
      expect(await s.create(row({ recipient: "alice@contoso.com", status: "Queued" }))).toBe(false);
      expect((await s.get("m1", "alice@contoso.com"))?.status).toBe("Routed");
    });

    test("conditional update succeeds only from the listed statuses", async () => {
      const s = await make();
      await s.put(row());
      expect(
        await s.update(
          "m1",
          "alice@contoso.com",
          { status: "Delivered" },
          { ifStatusIn: ["Routed", "Deferred"] },
        ),
      ).toBe(true);
      expect(
        await s.update(
          "m1",
          "alice@contoso.com",
          { status: "Deferred", lastError: "x" },
          { ifStatusIn: ["Routed", "Deferred"] },
        ),
      ).toBe(false);
      const got = await s.get("m1", "Alice@Contoso.com");
      expect(got?.status).toBe("Delivered");
      expect(got?.lastError).toBeUndefined();
    });

    test("update of a missing row is refused", async () => {
      const s = await make();
      expect(await s.update("nope", "x@y.z", { status: "Delivered" })).toBe(false);
    });

    test("listByMessage and listActive", async () => {
      const s = await make();
      await s.put(row({ recipient: "a@contoso.com" }));
      await s.put(row({ recipient: "b@contoso.com", status: "Delivered" }));
      await s.put(
        row({
          messageId: "m2",
          recipient: "c@contoso.com",
          status: "Deferred",
          lastError: "mx: 451 4.7.1 later",
          nextRetryAt: "2026-11-24T10:05:00.000Z",
        }),
      );
      expect((await s.listByMessage("m1")).map((r) => r.recipient).sort()).toEqual([
        "a@contoso.com",
        "b@contoso.com",
      ]);
      const active = await s.listActive();
      expect(active.map((r) => r.recipient).sort()).toEqual(["a@contoso.com", "c@contoso.com"]);
      expect(active.find((r) => r.messageId === "m2")).toMatchObject({
        lastError: "mx: 451 4.7.1 later",
        nextRetryAt: "2026-11-24T10:05:00.000Z",
      });
    });

    test("events are found by message, sender and recipient, in order", async () => {
      const s = await make();
      await s.addEvent({
        messageId: "m1",
        sender: "App@fabrikam.com",
        at: "2026-11-24T10:00:00.000Z",
        event: "RECEIVE",
        source: "SMTP",
      });
      await s.addEvent({
        messageId: "m1",
        recipient: "a@contoso.com",
        sender: "app@fabrikam.com",
        at: "2026-11-24T10:00:01.000Z",
        event: "ROUTE",
        source: "ROUTING",
      });
      await s.addEvent({
        messageId: "m1",
        recipient: "a@contoso.com",
        sender: "app@fabrikam.com",
        at: "2026-11-24T10:00:02.000Z",
        event: "DELIVER",
        source: "SMTP",
        detail: "250 ok",
      });
      await s.addEvent({
        messageId: "m2",
        recipient: "b@contoso.com",
        sender: "other@fabrikam.com",
        at: "2026-11-24T10:00:03.000Z",
        event: "FAIL",
        source: "SMTP",
      });
      expect((await s.events({ messageId: "m1" })).map((e) => e.event)).toEqual([
        "RECEIVE",
        "ROUTE",
        "DELIVER",
      ]);
      expect((await s.events({ recipient: "A@contoso.com" })).map((e) => e.event)).toEqual([
        "ROUTE",
        "DELIVER",
      ]);
      expect((await s.events({ sender: "app@fabrikam.com" })).map((e) => e.event)).toEqual([
        "RECEIVE",
        "ROUTE",
        "DELIVER",
      ]);
      expect((await s.events({ messageId: "m1", recipient: "a@contoso.com" }))[1]?.detail).toBe(
        "250 ok",
      );
    });
  });
}
