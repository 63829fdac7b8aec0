// Matching an address's domain against accepted domains, and a sender against a user's allowed senders.
import type { Mailbox } from "../address.ts";
import type { AcceptedDomain } from "../records/accepted-domain.ts";

/** How specifically `pattern` covers `domain`: more labels win, exact beats `*.` at equal labels. */
function specificity(pattern: string, domain: string): number | undefined {
  if (pattern === "*") return 0;
  const labels = (d: string) => d.split(".").length;
  if (pattern.startsWith("*.")) {
    const base = pattern.slice(2);
    return domain === base || domain.endsWith(`.${base}`) ? labels(base) * 2 : undefined;
  }
  return domain === pattern ? labels(pattern) * 2 + 1 : undefined;
}

/**
 * The accepted domain a recipient or sender domain falls in: `contoso.com` exactly, or
 * `*.contoso.com` for contoso.com and every subdomain (Exchange's wildcard accepted domain);
 * the most specific entry wins, so `sales.contoso.com` as InternalRelay overrides
 * `*.contoso.com` as Authoritative.
 */
export function matchAcceptedDomain(
  domain: string,
  acceptedDomains: AcceptedDomain[],
): AcceptedDomain | undefined {
  const d = domain.toLowerCase();
  let best: { entry: AcceptedDomain; score: number } | undefined;
  for (const entry of acceptedDomains) {
    // "*" is refused by the schema (it would be an open relay); refuse it here as well.
    if (entry.domain === "*") continue;
    const score = specificity(entry.domain.toLowerCase(), d);
    if (score !== undefined && (!best || score > best.score)) best = { entry, score };
  }
  return best?.entry;
}

/**
 * True when the sender matches one of a user's allowedSenders: `*`, `contoso.com`,
 * `*.contoso.com` or `user@contoso.com` (patterns are lower-case; the address is compared without
 * case, as Exchange compares proxy addresses).
 */
export function senderAllowed(sender: Mailbox, patterns: readonly string[]): boolean {
  const address = sender.address.toLowerCase();
  return patterns.some((raw) => {
    const p = raw.toLowerCase();
    if (p.includes("@")) return p === address;
    return specificity(p, sender.domain) !== undefined;
  });
}
