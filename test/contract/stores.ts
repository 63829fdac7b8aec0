// Contracts for the message (claim-check), record and secret stores, shared by every adapter.
import { describe, expect, test } from "vitest";
import { NotFoundError } from "#core/errors.ts";
import type { MessageStore, RecordStore, SecretStore } from "#core/ports.ts";

export function messageStoreContract(name: string, make: () => Promise<MessageStore>): void {
  describe(`MessageStore contract: ${name}`, () => {
    test("put then get returns the same bytes; delete removes; get of a missing key is NotFoundError", async () => {
      const s = await make();
      const body = new Uint8Array(300_000).map((_, i) => i % 251);
      await s.put("20261124T100000Z-abc", body);
      expect(Buffer.from(await s.get("20261124T100000Z-abc")).equals(Buffer.from(body))).toBe(true);
      await s.delete("20261124T100000Z-abc");
      await expect(s.get("20261124T100000Z-abc")).rejects.toBeInstanceOf(NotFoundError);
      await s.delete("20261124T100000Z-abc"); // deleting twice is fine
    });
  });
}

export function recordStoreContract(name: string, make: () => Promise<RecordStore>): void {
  describe(`RecordStore contract: ${name}`, () => {
    test("put, get (id case-insensitive), list, replace and delete", async () => {
      const s = await make();
      await s.put({
        kind: "SendConnector",
        name: "To Internet",
        addressSpaces: [{ domain: "*", cost: 1 }],
      });
      await s.put({ kind: "AcceptedDomain", domain: "contoso.com", domainType: "Authoritative" });
      expect(await s.get("SendConnector", "to internet")).toMatchObject({ name: "To Internet" });
      await s.put({
        kind: "SendConnector",
        name: "To Internet",
        addressSpaces: [{ domain: "*", cost: 5 }],
      });
      expect(await s.get("SendConnector", "To Internet")).toMatchObject({
        addressSpaces: [{ domain: "*", cost: 5 }],
      });
      expect((await s.list()).length).toBe(2);
      expect(await s.delete("SendConnector", "To Internet")).toBe(true);
      expect(await s.delete("SendConnector", "To Internet")).toBe(false);
      expect(await s.get("SendConnector", "To Internet")).toBeUndefined();
      expect(await s.list()).toEqual([
        expect.objectContaining({ kind: "AcceptedDomain", domain: "contoso.com" }),
      ]);
    });
  });
}

export function secretStoreContract(
  name: string,
  make: (secrets: Record<string, string>) => Promise<SecretStore>,
): void {
  describe(`SecretStore contract: ${name}`, () => {
    test("a stored secret is returned; a missing one is NotFoundError", async () => {
      const s = await make({ "smarthost/relay1": '{"username":"u","password":"p@ss"}' });
      expect(JSON.parse(await s.get("smarthost/relay1"))).toEqual({
        username: "u",
        password: "p@ss",
      });
      await expect(s.get("smarthost/none")).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}
