// DANE matching of a presented chain (RFC 7672 §3.1): DANE-EE ignores names and expiry; DANE-TA needs the chain linked and the MX name.
import { createHash, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { verifyDane } from "#adapters/smtp/dane-verify.ts";
import { createServerCertificate, createTestCa } from "#test/support/tls.ts";

let leaf: X509Certificate;
let issuer: X509Certificate;
let stranger: X509Certificate;

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const spki = (c: X509Certificate) => c.publicKey.export({ type: "spki", format: "der" });

beforeAll(async () => {
  const ca = await createTestCa("issuer");
  const other = await createTestCa("stranger");
  leaf = new X509Certificate((await createServerCertificate(["mx1.fabrikam.test"], ca)).cert);
  issuer = new X509Certificate(ca.cert);
  stranger = new X509Certificate(other.cert);
});

describe("verifyDane", () => {
  test("3 1 1 and 3 0 1 match the leaf whatever its name", () => {
    expect(
      verifyDane(
        [leaf],
        [{ usage: 3, selector: 1, matchingType: 1, data: sha256(spki(leaf)) }],
        "other.test",
      ),
    ).toBeUndefined();
    expect(
      verifyDane(
        [leaf],
        [{ usage: 3, selector: 0, matchingType: 1, data: sha256(leaf.raw) }],
        "other.test",
      ),
    ).toBeUndefined();
  });

  test("2 1 1 matches the issuer above the leaf when the chain is linked and the leaf names the MX", () => {
    const ta = [{ usage: 2, selector: 1, matchingType: 1, data: sha256(spki(issuer)) }];
    expect(verifyDane([leaf, issuer], ta, "mx1.fabrikam.test")).toBeUndefined();
    expect(verifyDane([leaf, issuer], ta, "mx2.fabrikam.test")).toContain(
      "does not name mx2.fabrikam.test",
    );
  });

  test("2 1 1 of a certificate that did not issue the leaf is refused", () => {
    const ta = [{ usage: 2, selector: 1, matchingType: 1, data: sha256(spki(stranger)) }];
    expect(verifyDane([leaf, stranger], ta, "mx1.fabrikam.test")).toContain(
      "does not lead to the DANE-TA",
    );
  });

  test("a 2 x x record never matches the leaf itself, and nothing matching says how many were tried", () => {
    const records = [
      { usage: 2, selector: 1, matchingType: 1, data: sha256(spki(leaf)) },
      { usage: 3, selector: 1, matchingType: 1, data: "00".repeat(32) },
    ];
    expect(verifyDane([leaf, issuer], records, "mx1.fabrikam.test")).toBe(
      "no TLSA record of _25._tcp.mx1.fabrikam.test matches the presented certificate (2 tried)",
    );
  });
});
