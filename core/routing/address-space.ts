// Matching domains against address-space patterns ("*", "contoso.com", "*.contoso.com") and ranking the matches.

/** Lower-cases a domain and drops a trailing root dot, so "Contoso.COM." and "contoso.com" compare equal. */
export function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, "");
}

const labelCount = (domain: string): number => domain.split(".").length;

/**
 * How specifically `pattern` matches `domain`, or undefined when it does not match. Higher is more
 * specific: more labels beat fewer, and at the same labels an exact domain beats the wildcard of
 * that domain (Exchange picks the connector with the most specific address space before cost).
 * `*.contoso.com` covers contoso.com itself as well as every subdomain, as in Exchange; `*` matches
 * anything and ranks 0.
 */
export function domainSpecificity(pattern: string, domain: string): number | undefined {
  const p = normalizeDomain(pattern);
  const d = normalizeDomain(domain);
  if (p === "*") return 0;
  if (p.startsWith("*.")) {
    const base = p.slice(2);
    return d === base || d.endsWith(`.${base}`) ? labelCount(base) * 2 : undefined;
  }
  return d === p ? labelCount(p) * 2 + 1 : undefined;
}
