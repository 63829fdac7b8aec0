// Partners on a receive connector: whether a client certificate earns the Partners group (Exchange's domain security).
import type { ReceiveConnector } from "../records/receive-connector.ts";
import { domainSpecificity, normalizeDomain } from "../routing/address-space.ts";

/** What the TLS layer learnt about the client's certificate, after the handshake. */
export interface ClientCertificate {
  /** Whether the client sent a certificate at all. */
  presented: boolean;
  /** The chain verified against the connector's CA bundle and every certificate is within its validity. */
  verified: boolean;
  /** OpenSSL's reason when it did not verify, e.g. CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE. */
  verifyError?: string;
  /** subjectAltName dNSName entries. */
  dnsNames: string[];
  /** The subject's CN, consulted only when there is no dNSName (RFC 6125 §6.4.4). */
  commonName?: string;
}

export type PartnerVerdict =
  | { granted: true; domain: string; name: string }
  | { granted: false; reason: string };

/** A connector asks for a client certificate exactly when it names partner domains. */
export function requestsClientCertificate(connector: ReceiveConnector): boolean {
  return connector.partnerDomains.length > 0;
}

/** The names a certificate speaks for: its dNSNames, else its CN (RFC 6125 §6.4.4). */
export function certificateNames(cert: ClientCertificate): string[] {
  const names = cert.dnsNames.length > 0 ? cert.dnsNames : cert.commonName ? [cert.commonName] : [];
  return names.map(normalizeDomain).filter(Boolean);
}

/**
 * Partners rights are granted only for a certificate that verified against the connector's CA
 * bundle and names a domain in partnerDomains ("fabrikam.com" exactly, "*.fabrikam.com" for it and
 * its subdomains). A wildcard name in the certificate matches only the same wildcard entry, so
 * "*.fabrikam.com" in a certificate never stands in for one specific partner domain. Anything else
 * leaves the session anonymous: a certificate only ever adds rights, never refuses a session.
 */
export function partnerVerdict(
  connector: ReceiveConnector,
  cert: ClientCertificate,
): PartnerVerdict {
  if (!requestsClientCertificate(connector))
    return { granted: false, reason: "connector has no partnerDomains" };
  if (!cert.presented) return { granted: false, reason: "no client certificate" };
  if (!cert.verified)
    return {
      granted: false,
      reason: `certificate did not verify against tlsClientCaBundle (${cert.verifyError ?? "unknown error"})`,
    };
  const names = certificateNames(cert);
  for (const name of names)
    for (const domain of connector.partnerDomains) {
      const matches = name.startsWith("*.")
        ? name === domain
        : domainSpecificity(domain, name) !== undefined;
      if (matches) return { granted: true, domain, name };
    }
  return {
    granted: false,
    reason: `certificate names ${names.join(", ") || "nothing"}, none in partnerDomains`,
  };
}
