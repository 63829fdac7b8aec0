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

    test("a job claim is a lease: one holder at a time until it ends or is released", async () => {
      const s = await make();
      const t0 = new Date("2026-11-24T10:00:00.000Z");
      const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
      const key = "m1-0a1b2c3d#0";
      expect(await s.claim(key, "copy-a", at(300), t0)).toEqual({ claimed: true });
      // A second copy of the same job, at the same moment and just before the lease ends.
      expect(await s.claim(key, "copy-b", at(300), at(1))).toEqual({
        claimed: false,
        until: at(300).toISOString(),
      });
      expect((await s.claim(key, "copy-b", at(600), at(299.999))).claimed).toBe(false);
      // The holder may renew; another job's key is independent.
      expect((await s.claim(key, "copy-a", at(400), at(10))).claimed).toBe(true);
      expect((await s.claim("m1-0a1b2c3d#1", "copy-b", at(300), t0)).claimed).toBe(true);
      // A holder that crashed blocks the job only until its lease ends.
      expect(await s.claim(key, "copy-b", at(900), at(400))).toEqual({ claimed: true });
      // The old holder's release does not end the new holder's lease; the holder's own does.
      await s.release(key, "copy-a");
      expect((await s.claim(key, "copy-c", at(1000), at(500))).claimed).toBe(false);
      await s.release(key, "copy-b");
      expect((await s.claim(key, "copy-c", at(1000), at(500))).claimed).toBe(true);
      // Claims are not recipients: the queue view and the message's rows do not show them.
      expect(await s.listActive()).toEqual([]);
    });

    test("two copies claiming at once: exactly one wins", async () => {
      const s = await make();
      const now = new Date("2026-11-24T10:00:00.000Z");
      const until = new Date(now.getTime() + 60_000);
      const results = await Promise.all(
        ["a", "b", "c", "d"].map((h) => s.claim("m9-race#2", h, until, now)),
      );
      expect(results.filter((r) => r.claimed)).toHaveLength(1);
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

    test("a recipient's events ride on its row's writes and are found by message, sender and recipient", async () => {
      const s = await make();
      const at = (sec: number) => `2026-11-24T10:00:0${sec}.000Z`;
      await s.addEvent({
        messageId: "m1",
        sender: "App@fabrikam.com",
        at: at(0),
        event: "RECEIVE",
        source: "SMTP",
      });
      const route = { at: at(1), event: "ROUTE" as const, source: "ROUTING", detail: "job j1" };
      expect(await s.create(row({ updatedAt: at(1) }), route)).toBe(true);
      // A refused create or update writes no event either.
      expect(await s.create(row({ recipient: "alice@contoso.com" }), { ...route, at: at(2) })).toBe(
        false,
      );
      // Written before the row's event of the same moment (as settle queues an NDR before the row
      // fails), it comes first.
      await s.addEvent({
        messageId: "m1",
        sender: "app@fabrikam.com",
        at: at(3),
        event: "DSN",
        source: "DSN",
      });
      const deliver = { at: at(3), event: "DELIVER" as const, source: "SMTP", detail: "250 ok" };
      expect(
        await s.update(
          "m1",
          "alice@contoso.com",
          { status: "Delivered", attempts: 1, updatedAt: at(3) },
          { ifStatusIn: ["Routed"], event: deliver },
        ),
      ).toBe(true);
      expect(
        await s.update(
          "m1",
          "alice@contoso.com",
          { status: "Deferred" },
          { ifStatusIn: ["Routed"], event: { ...deliver, event: "DEFER" } },
        ),
      ).toBe(false);
      const expected = [
        { event: "RECEIVE", recipient: undefined },
        { event: "ROUTE", recipient: "Alice@Contoso.com", detail: "job j1" },
        { event: "DSN", recipient: undefined },
        { event: "DELIVER", recipient: "Alice@Contoso.com", detail: "250 ok" },
      ];
      const shape = (list: Awaited<ReturnType<TrackingStore["events"]>>) =>
        list.map((e) => ({
          event: e.event,
          recipient: e.recipient,
          ...(e.detail && e.recipient ? { detail: e.detail } : {}),
        }));
      expect(shape(await s.events({ messageId: "m1" }))).toEqual(expected);
      expect(shape(await s.events({ sender: "APP@fabrikam.com" }))).toEqual(expected);
      expect(shape(await s.events({ recipient: "alice@CONTOSO.com" }))).toEqual(
        expected.filter((e) => e.recipient),
      );
      const [routed] = await s.events({ recipient: "alice@contoso.com" });
      expect(routed).toMatchObject({ messageId: "m1", sender: "app@fabrikam.com", at: at(1) });
      // The row itself carries no events: Get-Message shows it as before.
      expect(await s.get("m1", "alice@contoso.com")).toEqual(
        row({ status: "Delivered", attempts: 1, updatedAt: at(3) }),
      );
    });

    test("a row created Routed is in the queue view once written again", async () => {
      const s = await make();
      await s.create(row());
      const waiting = { updatedAt: "2026-11-24T10:00:05.000Z" };
      expect(await s.update("m1", "alice@contoso.com", waiting, { ifStatusIn: ["Routed"] })).toBe(
        true,
      );
      expect((await s.listActive()).map((r) => r.status)).toEqual(["Routed"]);
    });
  });
}
