// Reading the values the Exchange Management Shell writes with ConvertTo-Json: strings from a remote session, objects and enum numbers from a local one.

/** A property value that cannot be read; the mapper turns it into a note on that property. */
export class ValueError extends Error {
  override readonly name = "ValueError";
}

export const UNLIMITED = "Unlimited" as const;
export type Limit = number | typeof UNLIMITED;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** A property by name, case-insensitively (PowerShell's own lookup is). */
export function prop(o: Obj, name: string): unknown {
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

/** True when a property holds nothing: absent, null, "" or an empty list. */
export function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0);
}

/**
 * The text inside a value: a string, or the field PowerShell put it in when it serialised an object
 * (IPAddress → IPAddressToString, Fqdn/SmartHost → Domain/HostnameString/Address, a deserialised
 * value → value).
 */
export function text(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim();
  if (typeof v === "number") return String(v);
  if (!isObj(v)) return undefined;
  for (const key of [
    "IPAddressToString",
    "HostnameString",
    "Domain",
    "Address",
    "UserName",
    "value",
    "Name",
  ]) {
    const inner = prop(v, key);
    if (inner !== undefined && inner !== null) {
      const t = text(inner);
      if (t !== undefined && t !== "") return t;
    }
  }
  return undefined;
}

/**
 * A multi-valued property as a list: a JSON array, a remote session's `{ "value": [...] }`, one
 * comma-separated string ("Tls, BasicAuth"), or a single value.
 */
export function list(v: unknown, options: { split?: boolean } = {}): unknown[] {
  if (v === undefined || v === null || v === "") return [];
  if (Array.isArray(v)) return v;
  if (isObj(v) && Array.isArray(prop(v, "value"))) return prop(v, "value") as unknown[];
  if (typeof v === "string" && options.split)
    return v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  return [v];
}

export function bool(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (v === "True" || v === "true" || v === 1) return true;
  if (v === "False" || v === "false" || v === 0) return false;
  if (isEmpty(v)) return undefined;
  throw new ValueError(`${JSON.stringify(v)} is not true or false`);
}

/** A count or `Unlimited` (Exchange's Unlimited<int>: a number, "Unlimited", or { IsUnlimited, Value }). */
export function limit(v: unknown): Limit | undefined {
  if (isEmpty(v)) return undefined;
  if (isObj(v)) {
    if (prop(v, "IsUnlimited") === true) return UNLIMITED;
    return limit(prop(v, "Value"));
  }
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === "string") {
    if (/^unlimited$/i.test(v.trim())) return UNLIMITED;
    const t = v.trim().replace(/,/g, "");
    if (/^\d+$/.test(t)) return Number(t);
  }
  throw new ValueError(`${JSON.stringify(v)} is not a whole number or Unlimited`);
}

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

/**
 * A size in bytes or `Unlimited`: "36 MB (37,748,736 bytes)" (ByteQuantifiedSize's ToString; the
 * byte count in brackets is exact, the unit figure is rounded), "35MB", a number of bytes, or
 * { IsUnlimited, Value } where Value is any of those.
 */
export function size(v: unknown): Limit | undefined {
  if (isEmpty(v)) return undefined;
  if (isObj(v)) {
    if (prop(v, "IsUnlimited") === true) return UNLIMITED;
    for (const key of ["Value", "ToBytes", "Bytes"]) {
      const inner = prop(v, key);
      if (!isEmpty(inner)) return size(inner);
    }
    throw new ValueError(`${JSON.stringify(v)} is not a size`);
  }
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === "string") {
    const t = v.trim();
    if (/^unlimited$/i.test(t)) return UNLIMITED;
    const exact = /\(([\d,.\s]+)\s*bytes\)/i.exec(t);
    if (exact?.[1]) return Number(exact[1].replace(/[,.\s]/g, ""));
    const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?$/i.exec(t.replace(/,/g, ""));
    if (m?.[1]) return Math.round(Number(m[1]) * (UNITS[(m[2] ?? "B").toUpperCase()] ?? 1));
  }
  throw new ValueError(
    `${JSON.stringify(v)} is not a size; expected e.g. "36 MB (37,748,736 bytes)"`,
  );
}

/**
 * A TimeSpan in seconds: "1.00:00:00", "00:05:00", "00:00:05.5", or the object a local session
 * writes ({ Days, Hours, Minutes, Seconds, TotalSeconds, Ticks }).
 */
export function timespan(v: unknown): Limit | undefined {
  if (isEmpty(v)) return undefined;
  if (isObj(v)) {
    if (prop(v, "IsUnlimited") === true) return UNLIMITED;
    const total = prop(v, "TotalSeconds");
    if (typeof total === "number") return Math.round(total);
    const ticks = prop(v, "Ticks");
    if (typeof ticks === "number") return Math.round(ticks / 10_000_000);
    const value = prop(v, "Value");
    if (!isEmpty(value)) return timespan(value);
    throw new ValueError(`${JSON.stringify(v)} is not a time span`);
  }
  if (typeof v === "string") {
    const t = v.trim();
    if (/^unlimited$/i.test(t)) return UNLIMITED;
    const m = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?$/.exec(t);
    if (m && !m[1]) {
      const [d, h, min, s] = [m[2] ?? "0", m[3], m[4], m[5]].map(Number) as number[];
      if ((h ?? 0) < 24 && (min ?? 0) < 60 && (s ?? 0) < 60)
        return (d ?? 0) * 86_400 + (h ?? 0) * 3600 + (min ?? 0) * 60 + (s ?? 0);
    }
  }
  throw new ValueError(`${JSON.stringify(v)} is not a time span; expected e.g. "1.00:00:00"`);
}

/**
 * A [Flags] enum: "Tls, BasicAuth", a list of names, or the number a local session writes. `names`
 * are in declaration order without None, so names[i] is the bit 1 << i (as in Exchange's enums).
 */
export function flags(v: unknown, names: readonly string[]): string[] {
  if (isEmpty(v)) return [];
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** names.length)
      throw new ValueError(`${v} is not a combination of ${names.join(", ")}`);
    return names.filter((_, i) => (v & (1 << i)) !== 0);
  }
  const out: string[] = [];
  for (const item of list(v, { split: true })) {
    if (typeof item === "number") {
      out.push(...flags(item, names));
      continue;
    }
    const t = text(item) ?? "";
    if (/^none$/i.test(t)) continue;
    const name = names.find((n) => n.toLowerCase() === t.toLowerCase());
    if (!name) throw new ValueError(`"${t}" is not one of None, ${names.join(", ")}`);
    out.push(name);
  }
  return [...new Set(out)];
}

/** A plain enum: its name, or its number (`names` in declaration order from 0). */
export function enumName(v: unknown, names: readonly string[]): string | undefined {
  if (isEmpty(v)) return undefined;
  if (typeof v === "number") {
    const name = names[v];
    if (name === undefined) throw new ValueError(`${v} is not one of ${names.join(", ")}`);
    return name;
  }
  const t = text(v) ?? "";
  const name = names.find((n) => n.toLowerCase() === t.toLowerCase());
  if (!name) throw new ValueError(`"${t}" is not one of ${names.join(", ")}`);
  return name;
}

/** A date: Windows PowerShell's "/Date(1700000000000)/", ISO 8601, or { value, DateTime }. */
export function date(v: unknown): Date | undefined {
  if (isEmpty(v)) return undefined;
  if (isObj(v)) return date(prop(v, "value") ?? prop(v, "DateTime"));
  if (typeof v === "string") {
    const ms = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(v.trim());
    const d = ms?.[1] ? new Date(Number(ms[1])) : new Date(v);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new ValueError(`${JSON.stringify(v)} is not a date`);
}

export const isObject = isObj;
