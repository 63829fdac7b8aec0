// SMTP user passwords: scrypt PHC hashes, verification that never throws, and AUTH against user records.
import { scryptSync } from "node:crypto";
import { describe, expect, test } from "vitest";
import { authenticateUser, hashPassword, verifyPassword } from "#core/auth/password.ts";
import { PASSWORD_HASH, type SmtpUser, SmtpUserSchema } from "#core/records/smtp-user.ts";

describe("hashPassword / verifyPassword", () => {
  test("the hash is the PHC string the SmtpUser schema expects, and verifies", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash).toMatch(PASSWORD_HASH);
    expect(hash.startsWith("$scrypt$ln=15,r=8,p=1$")).toBe(true);
    const [, , , salt, key] = hash.split("$");
    expect(Buffer.from(salt!, "base64")).toHaveLength(16);
    expect(Buffer.from(key!, "base64")).toHaveLength(32);
    expect(await verifyPassword("correct horse battery staple", hash)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", hash)).toBe(false);
    expect(await verifyPassword("", hash)).toBe(false);
  });

  test("each hash gets its own salt", async () => {
    const [a, b] = await Promise.all([hashPassword("same"), hashPassword("same")]);
    expect(a).not.toBe(b);
  });

  test("parameters are read from the hash, not assumed", async () => {
    // A hash made elsewhere with N=2^14, r=8, p=2 and a 24-byte key (padded base64 is accepted).
    const salt = Buffer.from("0123456789abcdef");
    const key = scryptSync("s3cret", salt, 24, { N: 2 ** 14, r: 8, p: 2 });
    const hash = `$scrypt$ln=14,r=8,p=2$${salt.toString("base64")}$${key.toString("base64")}`;
    expect(await verifyPassword("s3cret", hash)).toBe(true);
    expect(await verifyPassword("s3cret", hash.replace("p=2", "p=1"))).toBe(false);
  });

  test.each([
    ["empty", ""],
    ["plain text", "hunter2"],
    ["another algorithm", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"],
    ["missing key", "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA"],
    ["bad base64", "$scrypt$ln=15,r=8,p=1$c2Fsd!!$aGFzaA"],
    [
      "cost too high to allow (2^40)",
      "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
    ],
    ["r = 0", "$scrypt$ln=15,r=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA"],
    ["key too short", "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA"],
  ])("a malformed hash (%s) is false, not a throw", async (_name, hash) => {
    await expect(verifyPassword("anything", hash)).resolves.toBe(false);
  });
});

describe("authenticateUser", async () => {
  const passwordHash = await hashPassword("app-secret");
  const mk = (name: string, extra: Partial<SmtpUser> = {}): SmtpUser =>
    SmtpUserSchema.parse({ kind: "SmtpUser", name, passwordHash, ...extra });
  const users = [mk("scanner"), mk("Printer"), mk("retired", { enabled: false })];

  test.each([
    ["scanner", "app-secret", "scanner"],
    // Names compare without case, as Exchange's logon names do.
    ["SCANNER", "app-secret", "scanner"],
    ["printer", "app-secret", "Printer"],
    ["scanner", "wrong", undefined],
    ["nobody", "app-secret", undefined],
    ["retired", "app-secret", undefined],
    ["", "", undefined],
  ])("%j / %j → %s", async (name, password, expected) => {
    expect((await authenticateUser(users, name, password))?.name).toBe(expected);
  });

  test("two records whose names differ only in case authenticate neither", async () => {
    // The record set reports such a duplicate; AUTH must not pick one of them by record order.
    const twins = [mk("app"), mk("APP", { passwordHash: await hashPassword("other") })];
    expect(await authenticateUser(twins, "app", "app-secret")).toBeUndefined();
    expect(await authenticateUser(twins, "APP", "other")).toBeUndefined();
  });
});
