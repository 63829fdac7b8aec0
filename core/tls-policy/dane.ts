// DANE for SMTP (RFC 7672) as data: TLSA records and which of them a relay can use.

/** One TLSA record of `_25._tcp.<mx>` (RFC 6698 §2.1), association data in lower-case hex. */
export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  data: string;
}

/** What the validating resolver said about `_25._tcp.<mx>` TLSA. */
export type TlsaAnswer =
  | { kind: "authenticated"; records: TlsaRecord[] }
  /** Records exist but the AD bit was not set: unsigned zone or a resolver that does not validate. */
  | { kind: "unauthenticated" }
  /** NXDOMAIN or no TLSA records (authenticated denial or not: either way DANE does not apply). */
  | { kind: "none" }
  /** SERVFAIL, timeout: the answer is unknown. */
  | { kind: "failed"; reason: string };

export const DANE_EE = 3;
export const DANE_TA = 2;

/**
 * RFC 7672 §3.1: SMTP uses DANE-TA(2) and DANE-EE(3) only (PKIX-TA/EE need a CA list nobody agrees
 * on for MX hosts), with selector Cert(0) or SPKI(1) and matching Full(0), SHA2-256(1) or
 * SHA2-512(2). Anything else is "unusable".
 */
export function usableTlsa(records: TlsaRecord[]): TlsaRecord[] {
  return records.filter(
    (r) =>
      (r.usage === DANE_EE || r.usage === DANE_TA) &&
      (r.selector === 0 || r.selector === 1) &&
      r.matchingType >= 0 &&
      r.matchingType <= 2 &&
      r.data.length > 0,
  );
}

export const tlsaName = (host: string, port = 25): string =>
  `_${port}._tcp.${host.toLowerCase().replace(/\.$/, "")}`;

export const formatTlsa = (r: TlsaRecord): string =>
  `${r.usage} ${r.selector} ${r.matchingType} ${r.data.slice(0, 16)}…`;
