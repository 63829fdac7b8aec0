// Matching a message's sender against a send connector's senderAddressSpaces (sender-based routing).
import { domainSpecificity, normalizeDomain } from "./address-space.ts";

/** Rank bands: an address beats a domain, a domain beats a wildcard domain, which beats "*". */
const ADDRESS = 3000;
const DOMAIN = 2000;
const WILDCARD_DOMAIN = 1000;

/**
 * How specifically `pattern` matches `sender`, or undefined when it does not. Patterns are `*`,
 * `contoso.com`, `*.contoso.com` (contoso.com and its subdomains) and `user@contoso.com`. The null
 * sender "" (bounces, RFC 5321 §4.5.5) has no domain, so only `*` matches it.
 */
export function senderSpecificity(pattern: string, sender: string): number | undefined {
  const p = pattern.trim().toLowerCase();
  if (p === "*") return 0;
  const s = sender.trim().toLowerCase();
  const at = s.lastIndexOf("@");
  if (at <= 0) return undefined;
  if (p.includes("@")) return p === s ? ADDRESS : undefined;
  const rank = domainSpecificity(p, normalizeDomain(s.slice(at + 1)));
  if (rank === undefined) return undefined;
  return (p.startsWith("*.") ? WILDCARD_DOMAIN : DOMAIN) + rank;
}

/** The best-matching pattern of a list, or undefined when none matches. */
export function bestSenderMatch(
  patterns: readonly string[],
  sender: string,
): { pattern: string; rank: number } | undefined {
  let best: { pattern: string; rank: number } | undefined;
  for (const pattern of patterns) {
    const rank = senderSpecificity(pattern, sender);
    if (rank !== undefined && (best === undefined || rank > best.rank)) best = { pattern, rank };
  }
  return best;
}
