// MTA-STS (RFC 8461) as data: the _mta-sts TXT record, the policy file, and which MX names a policy allows.

export type MtaStsMode = "enforce" | "testing" | "none";

/** A parsed policy file (RFC 8461 §3.2). The policy id comes from the TXT record, not the file. */
export interface MtaStsPolicy {
  mode: MtaStsMode;
  /** MX patterns: host names or `*.` wildcards, lower case, no trailing dot. */
  mx: string[];
  maxAgeSeconds: number;
}

/** A policy as the relay caches it: with the TXT id it was fetched under and when it stops being valid. */
export interface CachedMtaStsPolicy extends MtaStsPolicy {
  domain: string;
  id: string;
  fetchedAt: string;
  expiresAt: string;
}

/** RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year). */
export const MTA_STS_MAX_AGE_LIMIT = 31_557_600;

const ID = /^[A-Za-z0-9]{1,32}$/;

/**
 * RFC 8461 §3.1: of the TXT strings (each already concatenated), the ones starting with "v=STSv1;"
 * count; none or more than one means no policy is published. Fields are `key=value` split on ";".
 */
export function parseMtaStsRecord(
  txts: string[],
): { ok: true; id: string } | { ok: false; reason: string } {
  const candidates = txts.filter((t) => /^v=STSv1\s*(;|$)/.test(t.trim()));
  if (candidates.length === 0) return { ok: false, reason: "no v=STSv1 TXT record" };
  if (candidates.length > 1) return { ok: false, reason: "more than one v=STSv1 TXT record" };
  const fields = new Map<string, string>();
  for (const part of (candidates[0] ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const id = fields.get("id");
  if (!id || !ID.test(id))
    return { ok: false, reason: `TXT record id "${id ?? ""}" is not 1-32 letters or digits` };
  return { ok: true, id };
}

const MX_PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]+$/;

/**
 * RFC 8461 §3.2: lines of `key: value` ending in CRLF (LF accepted, as common implementations do);
 * version STSv1, mode, max_age and (unless mode is none) at least one mx are required; unknown keys
 * are ignored. Returns what is wrong otherwise, for LastError and the log.
 */
export function parseMtaStsPolicy(
  text: string,
): { ok: true; policy: MtaStsPolicy } | { ok: false; reason: string } {
  let version: string | undefined;
  let mode: string | undefined;
  let maxAge: string | undefined;
  const mx: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(":");
    if (colon <= 0)
      return { ok: false, reason: `policy line "${line.slice(0, 40)}" is not key: value` };
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === "version") version = value;
    else if (key === "mode") mode = value;
    else if (key === "max_age") maxAge = value;
    else if (key === "mx") mx.push(value.toLowerCase().replace(/\.$/, ""));
  }
  if (version !== "STSv1")
    return { ok: false, reason: `policy version "${version ?? ""}" is not STSv1` };
  if (mode !== "enforce" && mode !== "testing" && mode !== "none")
    return { ok: false, reason: `policy mode "${mode ?? ""}" is not enforce, testing or none` };
  if (!maxAge || !/^\d{1,10}$/.test(maxAge))
    return { ok: false, reason: `policy max_age "${maxAge ?? ""}" is not a number of seconds` };
  const bad = mx.find((p) => !MX_PATTERN.test(p));
  if (bad !== undefined)
    return { ok: false, reason: `policy mx "${bad}" is not a host name or *.domain` };
  if (mode !== "none" && mx.length === 0) return { ok: false, reason: "policy lists no mx" };
  // Larger values are clamped rather than refused: the RFC's limit protects the sender's cache.
  const maxAgeSeconds = Math.min(Number(maxAge), MTA_STS_MAX_AGE_LIMIT);
  return { ok: true, policy: { mode, mx, maxAgeSeconds } };
}

/**
 * RFC 8461 §4.1: a pattern matches the MX host name exactly, or with a leading "*." any host with
 * exactly one more label in its place ("*.example.com" matches "mx1.example.com", not
 * "example.com" and not "a.b.example.com"). Case-insensitive, trailing dots ignored.
 */
export function mxMatchesPattern(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  const p = pattern.toLowerCase().replace(/\.$/, "");
  if (!p.startsWith("*.")) return h === p;
  const dot = h.indexOf(".");
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

export const mxAllowedBy = (host: string, policy: MtaStsPolicy): boolean =>
  policy.mx.some((p) => mxMatchesPattern(host, p));

/** A cache entry is used until max_age ends (RFC 8461 §5.1: also while a refresh fails). */
export const isPolicyFresh = (p: CachedMtaStsPolicy, now: Date): boolean =>
  Date.parse(p.expiresAt) > now.getTime();
