// IP addresses and RemoteIPRanges (single address, CIDR, start-end; IPv4 and IPv6) as numeric spans.
import ipaddr from "ipaddr.js";

export interface IpRange {
  family: 4 | 6;
  start: bigint;
  end: bigint;
  /** The text as the admin wrote it. */
  text: string;
}

function toBigInt(bytes: number[]): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/**
 * Parses an address to its family and numeric value. IPv4-mapped IPv6 (`::ffff:10.0.0.5`, what a
 * dual-stack socket reports for an IPv4 client) is treated as the IPv4 address, so a range written
 * as IPv4 matches it. Returns undefined for anything that is not an address.
 */
export function parseIp(text: string): { family: 4 | 6; value: bigint } | undefined {
  const t = text.trim();
  if (!ipaddr.isValid(t)) return undefined;
  // ipaddr.isValid accepts legacy forms such as "10.1" or octal "010.0.0.1"; insist on four decimal parts.
  if (!t.includes(":") && !ipaddr.IPv4.isValidFourPartDecimal(t)) return undefined;
  let addr = ipaddr.parse(t);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress())
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  return addr.kind() === "ipv4"
    ? { family: 4, value: toBigInt(addr.toByteArray()) }
    : { family: 6, value: toBigInt(addr.toByteArray()) };
}

/** The canonical text of an address (IPv4-mapped IPv6 unwrapped), or undefined. */
export function normalizeIp(text: string): string | undefined {
  const t = text.trim();
  if (!parseIp(t)) return undefined;
  const addr = ipaddr.process(t);
  return addr.toString();
}

/** Parses "192.168.1.75", "192.168.1.0/24", "192.168.1.10-192.168.1.20" and their IPv6 forms. */
export function parseRemoteIpRange(text: string): IpRange | undefined {
  const t = text.trim();
  const dash = t.indexOf("-");
  if (dash > 0) {
    const a = parseIp(t.slice(0, dash));
    const b = parseIp(t.slice(dash + 1));
    if (!a || !b || a.family !== b.family || a.value > b.value) return undefined;
    return { family: a.family, start: a.value, end: b.value, text: t };
  }
  const slash = t.indexOf("/");
  if (slash > 0) {
    const ip = parseIp(t.slice(0, slash));
    const bitsText = t.slice(slash + 1);
    if (!ip || !/^\d{1,3}$/.test(bitsText)) return undefined;
    const width = ip.family === 4 ? 32 : 128;
    const bits = Number(bitsText);
    if (bits > width) return undefined;
    const hostBits = BigInt(width - bits);
    const start = (ip.value >> hostBits) << hostBits;
    return { family: ip.family, start, end: start + (1n << hostBits) - 1n, text: t };
  }
  const ip = parseIp(t);
  return ip ? { family: ip.family, start: ip.value, end: ip.value, text: t } : undefined;
}

export function isRemoteIpRange(text: string): boolean {
  return parseRemoteIpRange(text) !== undefined;
}

export function rangeContainsIp(range: IpRange, ip: string): boolean {
  const p = parseIp(ip);
  return (
    p !== undefined && p.family === range.family && p.value >= range.start && p.value <= range.end
  );
}

/** Number of addresses in the range minus one: smaller is more specific. */
export function rangeSize(range: IpRange): bigint {
  return range.end - range.start;
}

export function rangeContains(outer: IpRange, inner: IpRange): boolean {
  return outer.family === inner.family && outer.start <= inner.start && inner.end <= outer.end;
}

export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.family === b.family && a.start <= b.end && b.start <= a.end;
}

/** True when the address is an unspecified bind address (0.0.0.0 or ::) that covers every local address. */
export function isUnspecified(ip: string): boolean {
  const p = parseIp(ip);
  return p !== undefined && p.value === 0n;
}
