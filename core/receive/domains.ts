// Matching an address's domain against accepted domains, and a sender against a user's allowed senders.
import type { Mailbox } from "../address.ts";
import type { AcceptedDomain } from "../records/accepted-domain.ts";
import { domainSpecificity } from "../routing/address-space.ts";
import { senderSpecificity } from "../routing/sender-space.ts";

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
  let best: { entry: AcceptedDomain; rank: number } | undefined;
  for (const entry of acceptedDomains) {
    // "*" is refused by the schema (it would make an open relay); refuse it here as well.
    if (entry.domain.trim() === "*") continue;
    const rank = domainSpecificity(entry.domain, domain);
    if (rank !== undefined && (!best || rank > best.rank)) best = { entry, rank };
  }
  return best?.entry;
}

/**
 * True when the sender matches one of a user's allowedSenders: `*`, `contoso.com`,
 * `*.contoso.com` or `user@contoso.com`, compared without case as Exchange compares addresses.
 */
export function senderAllowed(sender: Mailbox, patterns: readonly string[]): boolean {
  return patterns.some((p) => senderSpecificity(p, sender.address) !== undefined);
}
