// The DNS TXT records a DKIM signing config asks the admin to publish, in the forms DNS consoles accept.
import type { DkimKey, DkimSigningConfig } from "../records/dkim-signing-config.ts";

/** One record to publish; `value` is ready to paste into a zone file or the Route 53 console. */
export interface DkimDnsRecord {
  name: string;
  type: "TXT";
  /**
   * The record data. A TXT record holds strings of at most 255 octets (RFC 1035 §3.3.14); a
   * 2048-bit RSA key is about 400 characters, so longer values are given as several quoted strings
   * `"…" "…"`, which verifiers join without spaces (RFC 6376 §3.6.2.2).
   */
  value: string;
  /** The same data as one unsplit string, for consoles that split it themselves (Cloudflare, Azure DNS). */
  unsplit: string;
  selector: string;
  keyType: DkimKey["keyType"];
  /** "signing": the key signs now; "retired": replaced by a rotation, published until removed. */
  status: "signing" | "retired";
}

/** Longest character-string in a TXT record (RFC 1035 §3.3). */
export const TXT_STRING_MAX = 255;

/** The key record's tag list (RFC 6376 §3.6.1; `k=ed25519` from RFC 8463 §4.2). */
export function dkimTxtValue(key: Pick<DkimKey, "keyType" | "publicKey">): string {
  return `v=DKIM1; k=${key.keyType}; p=${key.publicKey}`;
}

/** Splits a TXT value into strings of at most 255 characters. */
export function splitTxt(value: string, max = TXT_STRING_MAX): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += max) out.push(value.slice(i, i + max));
  return out.length ? out : [""];
}

/** Presentation form: one bare string when it fits, else quoted strings separated by spaces. */
export function txtPresentation(value: string): string {
  const parts = splitTxt(value);
  return parts.length === 1 ? value : parts.map((p) => `"${p}"`).join(" ");
}

export function dkimRecordName(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain}`;
}

/** Every record the domain should publish: its signing keys, then the retired ones still in use. */
export function dkimDnsRecords(config: DkimSigningConfig): DkimDnsRecord[] {
  const one = (key: DkimKey, status: DkimDnsRecord["status"]): DkimDnsRecord => {
    const unsplit = dkimTxtValue(key);
    return {
      name: dkimRecordName(key.selector, config.domain),
      type: "TXT",
      value: txtPresentation(unsplit),
      unsplit,
      selector: key.selector,
      keyType: key.keyType,
      status,
    };
  };
  return [
    ...config.keys.map((k) => one(k, "signing")),
    ...config.retiredKeys.map((k) => one(k, "retired")),
  ];
}

/** Joins the strings of a TXT answer and reads its `p=` tag; undefined when there is none. */
export function publishedPublicKey(strings: string[]): string | undefined {
  const tags = strings.join("").split(";");
  for (const tag of tags) {
    const [name, ...rest] = tag.split("=");
    if (name?.trim() === "p") return rest.join("=").replace(/\s+/g, "");
  }
  return undefined;
}
