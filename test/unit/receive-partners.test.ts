// Partners on a receive connector: which client certificates earn the group, and which records are refused.
import { describe, expect, test } from "vitest";
import { type ClientCertificate, partnerVerdict } from "#core/receive/partners.ts";
import { formatProblem } from "#core/records/index.ts";
import {
  type ReceiveConnectorInput,
  ReceiveConnectorSchema,
} from "#core/records/receive-connector.ts";
import { buildRecordSet } from "#core/records/record-set.ts";

const partner = (extra: Partial<ReceiveConnectorInput> = {}) =>
  ReceiveConnectorSchema.parse({
    kind: "ReceiveConnector",
    name: "Partner",
    bindings: ["0.0.0.0:25"],
    permissionGroups: ["AnonymousUsers", "Partners"],
    partnerDomains: ["fabrikam.com", "*.wingtiptoys.com"],
    tlsClientCaBundle: "partners-ca.pem",
    ...extra,
  });

const cert = (extra: Partial<ClientCertificate> = {}): ClientCertificate => ({
  presented: true,
  verified: true,
  dnsNames: [],
  ...extra,
});

describe("partnerVerdict", () => {
  test.each<[string, ClientCertificate, string | undefined]>([
    ["SAN dNSName equal to a partner domain", cert({ dnsNames: ["fabrikam.com"] }), "fabrikam.com"],
    ["case and a root dot do not count", cert({ dnsNames: ["FABRIKAM.com."] }), "fabrikam.com"],
    [
      "a subdomain under a *. entry",
      cert({ dnsNames: ["mail.wingtiptoys.com"] }),
      "*.wingtiptoys.com",
    ],
    ["the base domain of a *. entry", cert({ dnsNames: ["wingtiptoys.com"] }), "*.wingtiptoys.com"],
    ["a subdomain of an exact entry is not it", cert({ dnsNames: ["mx.fabrikam.com"] }), undefined],
    ["CN when there is no dNSName", cert({ commonName: "fabrikam.com" }), "fabrikam.com"],
    [
      "CN is ignored once a dNSName is present (RFC 6125)",
      cert({ dnsNames: ["other.example"], commonName: "fabrikam.com" }),
      undefined,
    ],
    [
      "a wildcard certificate name does not stand for one partner",
      cert({ dnsNames: ["*.fabrikam.com"] }),
      undefined,
    ],
    [
      "a wildcard certificate name matches the same wildcard entry",
      cert({ dnsNames: ["*.wingtiptoys.com"] }),
      "*.wingtiptoys.com",
    ],
    ["a name from the right CA but another domain", cert({ dnsNames: ["contoso.com"] }), undefined],
    [
      "expired (OpenSSL's verdict)",
      cert({ verified: false, verifyError: "CERT_HAS_EXPIRED", dnsNames: ["fabrikam.com"] }),
      undefined,
    ],
    [
      "another CA",
      cert({
        verified: false,
        verifyError: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
        dnsNames: ["fabrikam.com"],
      }),
      undefined,
    ],
    ["no certificate", { presented: false, verified: false, dnsNames: [] }, undefined],
  ])("%s", (_name, c, domain) => {
    const v = partnerVerdict(partner(), c);
    expect(v.granted ? v.domain : undefined).toBe(domain);
  });

  test("the reason names what failed", () => {
    const v = partnerVerdict(
      partner(),
      cert({ verified: false, verifyError: "CERT_HAS_EXPIRED", dnsNames: ["fabrikam.com"] }),
    );
    expect(v).toEqual({
      granted: false,
      reason: "certificate did not verify against tlsClientCaBundle (CERT_HAS_EXPIRED)",
    });
    expect(partnerVerdict(partner(), cert({ dnsNames: ["contoso.com"] }))).toEqual({
      granted: false,
      reason: "certificate names contoso.com, none in partnerDomains",
    });
  });
});

describe("receive connector records with Partners", () => {
  const problems = (extra: Record<string, unknown>) =>
    buildRecordSet([
      {
        kind: "ReceiveConnector",
        name: "Partner",
        bindings: ["0.0.0.0:25"],
        ...extra,
      },
    ]).problems.map(formatProblem);

  test("a complete partner connector loads", () => {
    expect(
      problems({
        permissionGroups: ["Partners"],
        partnerDomains: ["fabrikam.com"],
        tlsClientCaBundle: "partners-ca.pem",
      }),
    ).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, string]>([
    [
      "Partners without partner domains",
      { permissionGroups: ["Partners"] },
      'ReceiveConnector "Partner": permissionGroups: Partners is granted only to a client certificate naming one of partnerDomains; set partnerDomains and tlsClientCaBundle',
    ],
    [
      "a Partners grant without partner domains",
      { grantedPermissions: ["Partners:AcceptAnyRecipient"] },
      'ReceiveConnector "Partner": grantedPermissions: Partners is granted only to a client certificate naming one of partnerDomains; set partnerDomains and tlsClientCaBundle',
    ],
    [
      "partner domains without a CA bundle",
      { partnerDomains: ["fabrikam.com"] },
      'ReceiveConnector "Partner": tlsClientCaBundle: partnerDomains needs tlsClientCaBundle, the CA certificates a partner\'s certificate must chain to',
    ],
    [
      "a CA bundle without partner domains",
      { tlsClientCaBundle: "ca.pem" },
      'ReceiveConnector "Partner": partnerDomains: tlsClientCaBundle applies only with partnerDomains, the domains a partner\'s certificate may name',
    ],
    [
      "partner domains on a connector without TLS",
      { partnerDomains: ["fabrikam.com"], tlsClientCaBundle: "ca.pem", authMechanisms: ["None"] },
      'ReceiveConnector "Partner": partnerDomains: a client certificate is asked for only under TLS; add "Tls" to authMechanisms or set implicitTls',
    ],
    [
      '"*" as a partner domain',
      { partnerDomains: ["*"], tlsClientCaBundle: "ca.pem" },
      'ReceiveConnector "Partner": partnerDomains[0]: "*" would make any certificate from the CA a partner; use "fabrikam.com" or "*.fabrikam.com"',
    ],
  ])("%s is reported and the connector left out", (_name, extra, text) => {
    expect(problems(extra)).toContain(text);
  });
});
