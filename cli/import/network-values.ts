// Reading Exchange's network-shaped values: address spaces, bindings, remote IP ranges and smart hosts.
import { normalizeIp, parseIp } from "#core/net/ip-range.ts";
import { formatHostPort, parseHostPort } from "#core/records/common.ts";
import { isEmpty, isObject, prop, text, ValueError } from "./values.ts";

export interface ExchangeAddressSpace {
  /** SMTP, X400, EX, ... Only SMTP address spaces route mail to domains. */
  type: string;
  /** The domain pattern as Exchange writes it: "*", "contoso.com", "*.contoso.com", "--". */
  domain: string;
  cost: number;
}

/**
 * "SMTP:*;1", "smtp:contoso.com;10", "contoso.com" (cost 1), or the object a local session writes
 * ({ Type, Domain: "x" | { Domain, IncludeSubDomains }, Address, AddressSpace, Cost }).
 */
export function addressSpace(v: unknown): ExchangeAddressSpace {
  if (typeof v === "string") {
    const m = /^(?:([A-Za-z0-9]+):)?(.+?)(?:;(\d+))?$/.exec(v.trim());
    if (!m?.[2]) throw new ValueError(`"${v}" is not an address space; expected e.g. "SMTP:*;1"`);
    return { type: (m[1] ?? "SMTP").toUpperCase(), domain: m[2].trim(), cost: Number(m[3] ?? 1) };
  }
  if (!isObject(v)) throw new ValueError(`${JSON.stringify(v)} is not an address space`);
  const whole = prop(v, "AddressSpace");
  if (typeof whole === "string" && whole.includes(":")) {
    const parsed = addressSpace(whole);
    const cost = prop(v, "Cost");
    return typeof cost === "number" ? { ...parsed, cost } : parsed;
  }
  const domainValue = prop(v, "Domain");
  let domain =
    text(domainValue) ?? text(prop(v, "Address")) ?? (typeof whole === "string" ? whole : "");
  const sub = isObject(domainValue)
    ? prop(domainValue, "IncludeSubDomains")
    : prop(v, "IncludeSubDomains");
  if (sub === true && domain !== "*" && !domain.startsWith("*.")) domain = `*.${domain}`;
  const costValue = prop(v, "Cost");
  const cost = typeof costValue === "number" ? costValue : Number(costValue ?? 1);
  if (domain === "" || !Number.isInteger(cost))
    throw new ValueError(`${JSON.stringify(v)} is not an address space`);
  return { type: (text(prop(v, "Type")) ?? "SMTP").toUpperCase(), domain, cost };
}

/** "0.0.0.0:25", "[::]:587", "10.0.0.4:25", or { Address, Port } (an IPEndPoint). */
export function binding(v: unknown): string {
  if (typeof v === "string") {
    const hp = parseHostPort(v.trim());
    if (hp?.port !== undefined && parseIp(hp.host)) return formatHostPort(hp);
    throw new ValueError(`"${v}" is not a binding; expected e.g. "0.0.0.0:25" or "[::]:587"`);
  }
  if (isObject(v)) {
    const address = text(prop(v, "Address"));
    const port = prop(v, "Port");
    if (address && parseIp(address) && typeof port === "number")
      return formatHostPort({ host: normalizeIp(address) ?? address, port });
  }
  throw new ValueError(`${JSON.stringify(v)} is not a binding`);
}

/**
 * A RemoteIPRanges entry: "10.0.0.5", "10.0.0.0/24", "10.0.0.1-10.0.0.9", or the IPRange object a
 * local session writes ({ Expression, LowerBound, UpperBound, CIDRLength, RangeFormat }).
 */
export function ipRange(v: unknown): string {
  if (typeof v === "string") return v.trim().replace(/\s*-\s*/, "-");
  if (isObject(v)) {
    const expression = text(prop(v, "Expression"));
    if (expression) return ipRange(expression);
    const lower = text(prop(v, "LowerBound"));
    const upper = text(prop(v, "UpperBound"));
    const cidr = prop(v, "CIDRLength");
    const format = text(prop(v, "RangeFormat"))?.toLowerCase();
    if (lower && (format === "cidr" || format === "2") && typeof cidr === "number")
      return `${lower}/${cidr}`;
    if (lower && upper) return lower === upper ? lower : `${lower}-${upper}`;
    if (lower) return lower;
  }
  throw new ValueError(`${JSON.stringify(v)} is not an IP range`);
}

/**
 * A smart host: "smtp.contoso.com", "[10.0.0.5]" (Exchange brackets addresses), or an object with
 * Address/Domain/HostnameString. Returned as this relay writes hosts ("10.0.0.5", "[2001:db8::5]").
 */
export function smartHost(v: unknown): string {
  let t = isObject(v) ? text(v) : typeof v === "string" ? v.trim() : undefined;
  if (t === undefined || isEmpty(t))
    throw new ValueError(`${JSON.stringify(v)} is not a smart host`);
  const bracketed = /^\[([^\]]+)\]$/.exec(t);
  if (bracketed?.[1] && !bracketed[1].includes(":")) t = bracketed[1];
  if (!parseHostPort(t)) throw new ValueError(`"${t}" is not a host name or address`);
  return t.toLowerCase();
}
