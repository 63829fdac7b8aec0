// DANE certificate matching (RFC 7672 §3.1, RFC 6698 §2.1) against the chain a server presented after STARTTLS.
import { createHash, type X509Certificate as X509, X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";
import { DANE_EE, DANE_TA, type TlsaRecord } from "#core/tls-policy/dane.ts";

/** The presented chain, leaf first, as Node's peer certificate links it (stops at a self-issued root). */
export function presentedChain(socket: TLSSocket): X509[] {
  const chain: X509[] = [];
  let cert = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  const seen = new Set<string>();
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

function associationData(cert: X509, r: TlsaRecord): Buffer {
  // Selector 0: the whole certificate; 1: its SubjectPublicKeyInfo (survives re-issue with the same key).
  const selected =
    r.selector === 0 ? cert.raw : cert.publicKey.export({ type: "spki", format: "der" });
  if (r.matchingType === 1) return createHash("sha256").update(selected).digest();
  if (r.matchingType === 2) return createHash("sha512").update(selected).digest();
  return selected;
}

const matches = (cert: X509, r: TlsaRecord): boolean =>
  associationData(cert, r).toString("hex") === r.data.toLowerCase();

/**
 * Undefined when the chain satisfies one record, else why not. DANE-EE(3): the leaf matches; RFC
 * 7672 §3.1.1 applies no name or expiry check. DANE-TA(2): a certificate above the leaf matches,
 * every link below it is issued and signed by the next, and the leaf is valid now for the MX name
 * (RFC 7672 §3.2.2: with DANE-TA the reference identifier is the MX host name).
 */
export function verifyDane(
  chain: X509[],
  records: TlsaRecord[],
  host: string,
  now: Date = new Date(),
): string | undefined {
  const leaf = chain[0];
  if (!leaf) return "the server presented no certificate";
  if (records.some((r) => r.usage === DANE_EE && matches(leaf, r))) return undefined;
  for (const r of records.filter((x) => x.usage === DANE_TA)) {
    const at = chain.findIndex((c, i) => i > 0 && matches(c, r));
    if (at < 0) continue;
    const linked = chain.slice(0, at).every((c, i) => {
      const issuer = chain[i + 1] as X509;
      return c.checkIssued(issuer) && c.verify(issuer.publicKey);
    });
    if (!linked) return `the chain does not lead to the DANE-TA certificate of ${host}`;
    const t = now.getTime();
    if (t < Date.parse(leaf.validFrom) || t > Date.parse(leaf.validTo))
      return `certificate of ${host} is outside its validity (DANE-TA)`;
    if (!leaf.checkHost(host)) return `certificate does not name ${host} (DANE-TA)`;
    return undefined;
  }
  return `no TLSA record of _25._tcp.${host} matches the presented certificate (${records.length} tried)`;
}
