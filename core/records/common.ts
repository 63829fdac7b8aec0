// Shared field schemas for connector records: domain names, address spaces, hosts and ports.
import ipaddr from "ipaddr.js";
import { z } from "zod";

/** One DNS label: letters, digits, hyphens; not starting or ending with a hyphen (RFC 1035 §2.3.1). */
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** True for a plain domain name such as `contoso.com` (no wildcard, no trailing dot, no IP literal). */
export function isDomainName(value: string): boolean {
  if (value.length === 0 || value.length > 253 || value.endsWith(".")) return false;
  const labels = value.split(".");
  if (labels.length < 1) return false;
  if (!labels.every((l) => LABEL.test(l))) return false;
  // An all-numeric last label would make "10.0.0.1" look like a domain.
  return !/^\d+$/.test(labels[labels.length - 1] ?? "");
}

/**
 * An address-space pattern as Exchange writes it: `*` (any domain), `contoso.com` (exactly that
 * domain) or `*.contoso.com` (every subdomain of contoso.com, and contoso.com itself, as in
 * Exchange). `*contoso.com` is invalid.
 */
export function isDomainPattern(value: string): boolean {
  if (value === "*") return true;
  if (value.startsWith("*.")) return isDomainName(value.slice(2));
  return isDomainName(value);
}

export const DOMAIN_PATTERN_FIX = 'use "*", "contoso.com" or "*.contoso.com"';

export const domainName = z
  .string()
  .trim()
  .toLowerCase()
  .refine(isDomainName, { message: 'not a domain name; use a name such as "contoso.com"' });

export const domainPattern = z
  .string()
  .trim()
  .toLowerCase()
  .refine(isDomainPattern, { message: `not a valid address space; ${DOMAIN_PATTERN_FIX}` });

/** A TCP port number. */
export const port = z.number().int().min(1).max(65535);

/** Parsed `host`, `host:port`, `ip`, `ip:port` or `[ipv6]:port`. */
export interface HostPort {
  host: string;
  port?: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-f:.]+$/i;

export function isIpv4(value: string): boolean {
  return IPV4.test(value);
}

export function isIpv6(value: string): boolean {
  // The character test alone took "10.0.0.5:587" and "cafe.de:25" for IPv6 addresses and lost their port.
  return value.includes(":") && IPV6.test(value) && ipaddr.IPv6.isValid(value);
}

/** Parses a host with an optional port; returns undefined when the text is not of that form. */
export function parseHostPort(value: string): HostPort | undefined {
  // Bindings and smart hosts are parsed on every connection and delivery, from a handful of
  // distinct strings: remember the answers (a copy each time, so callers may change theirs).
  if (parsedHostPorts.has(value)) {
    const hit = parsedHostPorts.get(value);
    return hit ? { ...hit } : undefined;
  }
  const parsed = parseHostPortUncached(value);
  if (parsedHostPorts.size >= 1000) parsedHostPorts.clear();
  parsedHostPorts.set(value, parsed);
  return parsed ? { ...parsed } : undefined;
}

const parsedHostPorts = new Map<string, HostPort | undefined>();

function parseHostPortUncached(value: string): HostPort | undefined {
  const text = value.trim();
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? "";
    portText = bracketed[2];
    if (!isIpv6(host)) return undefined;
  } else if (isIpv6(text)) {
    host = text;
  } else {
    const m = /^([^:]+)(?::(\d+))?$/.exec(text);
    if (!m) return undefined;
    host = (m[1] ?? "").toLowerCase();
    portText = m[2];
    if (!isIpv4(host) && !isDomainName(host)) return undefined;
  }
  if (portText === undefined) return { host };
  const n = Number(portText);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return undefined;
  return { host, port: n };
}

/** Formats a HostPort back to text, bracketing IPv6 addresses when a port follows. */
export function formatHostPort(hp: HostPort): string {
  if (hp.port === undefined) return hp.host;
  return hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

export const hostPort = z.string().refine((v) => parseHostPort(v) !== undefined, {
  message: 'not a host; use "smtp.contoso.com", "10.0.0.5", "host:587" or "[2001:db8::5]:25"',
});

/** An IP address with an optional port, as used for DNS servers and bindings. */
export const ipPort = z.string().refine(
  (v) => {
    const hp = parseHostPort(v);
    return hp !== undefined && (isIpv4(hp.host) || isIpv6(hp.host));
  },
  { message: 'not an IP address; use "10.0.0.2", "10.0.0.2:53" or "[2001:db8::2]:53"' },
);

/** Metadata any record may carry, written by the stores rather than by admins. */
export const recordMeta = {
  updatedAt: z.string().optional(),
  version: z.number().int().optional(),
};

/** Protocol logging level of a connector, as in Exchange. */
export const protocolLogging = z.enum(["None", "Verbose"]).default("None");

export const MB = 1024 * 1024;
