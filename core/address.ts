// Strict parsing of an envelope address (RFC 5321 §4.1.2 Mailbox) for the relay decision: anything a
// downstream hop could read as a different destination is rejected, never normalised into a relay.
import { domainToASCII, domainToUnicode } from "node:url";
import { isDomainName } from "./records/common.ts";

/**
 * A parsed mailbox. `domain` is lower-case ASCII: an internationalised domain is held as its
 * punycode A-label (`xn--bcher-kva.example`), because accepted domains and address spaces are
 * ASCII records and smtp-server hands us IDNs already decoded to Unicode. `localPart` keeps its
 * case (RFC 5321 §2.4: only the receiving host may fold it); a quoted local part whose content is
 * a valid dot-atom is unquoted, as §4.1.2 says the quoted form SHOULD NOT be used then.
 */
export interface Mailbox {
  localPart: string;
  domain: string;
  address: string;
}

export type AddressParse = { ok: true; mailbox: Mailbox } | { ok: false; reason: string };

/** RFC 5321 §4.5.3.1: local part 64 octets, domain 255 (253 as text), forward-path 256 with <>. */
const MAX_LOCAL = 64;
const MAX_ADDRESS = 254;

/**
 * RFC 5322 atext without `!` and `%`: both are legal, but old MTAs still route on them (bang paths,
 * the percent hack), so an address that contains them could leave an accepted domain for anywhere.
 */
const ATEXT = "A-Za-z0-9#$&'*+\\-/=?^_`{|}~";
const DOT_ATOM = new RegExp(`^[${ATEXT}]+(\\.[${ATEXT}]+)*$`);
/** Quoted content we accept: the same characters plus dots in any position ("john..doe"). */
const QUOTED_CONTENT = new RegExp(`^[${ATEXT}.]+$`);

const fail = (reason: string) => ({ ok: false as const, reason });

/**
 * Parses the path smtp-server passes (no angle brackets), e.g. `user@contoso.com`. The null sender
 * `""` is the caller's business; here it is an empty address. UTF-8 local parts (RFC 6531 §3.3)
 * are accepted only in a form no hop can read differently: NFC, no invisible or format
 * characters, and nothing whose compatibility form (NFKC) brings back a character the ASCII rules
 * refuse — a full-width `＠` or `％` is a classic way to make two hops disagree about where an
 * address goes. Whether the client announced SMTPUTF8 is the listener's check (core/utf8.ts).
 */
export function parseMailbox(text: string): AddressParse {
  if (text.length === 0) return fail("empty address");
  // Unicode domains and quoted local parts may shrink or grow once normalised; bound the work first.
  if (text.length > 2 * MAX_ADDRESS) return fail("address too long");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what we refuse
  if (/[\x00-\x1f\x7f]/.test(text)) return fail("control character in address");
  if (/\s/u.test(text)) return fail("whitespace in address");
  if (/[<>]/.test(text)) return fail("angle bracket inside the path");
  // RFC 5321 §4.1.2 Appendix C: "@a,@b:user@c" — the route would choose the next hop for us.
  if (text.startsWith("@")) return fail("source route");
  const at = text.lastIndexOf("@");
  if (at < 0) return fail("no domain");
  if (text.indexOf("@") !== at) return fail("more than one @");
  const rawLocal = text.slice(0, at);
  const rawDomain = text.slice(at + 1);
  if (rawLocal.length === 0) return fail("empty local part");
  if (rawDomain.length === 0) return fail("empty domain");

  const local = parseLocalPart(rawLocal);
  if (!local.ok) return local;
  const domain = parseDomain(rawDomain);
  if (!domain.ok) return domain;

  const address = `${local.value}@${domain.value}`;
  if (address.length > MAX_ADDRESS) return fail("address too long");
  return { ok: true, mailbox: { localPart: local.value, domain: domain.value, address } };
}

type Part = { ok: true; value: string } | { ok: false; reason: string };

function parseLocalPart(raw: string): Part {
  if (/[^\x20-\x7e]/.test(raw)) return parseUtf8LocalPart(raw);
  if (raw.includes("%")) return fail("percent hack (%) in local part");
  if (raw.includes("!")) return fail("bang path (!) in local part");
  if (raw.includes("\\")) return fail("backslash escape in local part");
  if (/[()]/.test(raw)) return fail("comment in address");
  let value = raw;
  if (raw.startsWith('"') || raw.endsWith('"')) {
    const content = raw.length >= 2 && raw.endsWith('"') ? raw.slice(1, -1) : undefined;
    if (content === undefined || !raw.startsWith('"') || !QUOTED_CONTENT.test(content))
      return fail("unsupported quoted local part");
    value = DOT_ATOM.test(content) ? content : raw;
  } else if (!DOT_ATOM.test(raw)) {
    return fail("local part is not a dot-atom");
  }
  if (value.length > MAX_LOCAL) return fail("local part longer than 64");
  return { ok: true, value };
}

/** Invisible, format, separator and private-use characters, and anything unassigned. */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Z}\p{Co}\p{Cn}\p{Cs}]/u;

function parseUtf8LocalPart(raw: string): Part {
  if (HIDDEN.test(raw)) return fail("invisible or unassigned character in local part");
  if (raw.normalize("NFC") !== raw) return fail("local part is not in Unicode NFC");
  // What a hop that folds compatibility forms would read: it must still be a plain dot-atom.
  const folded = raw.normalize("NFKC").replace(/[^\p{ASCII}]/gu, "a");
  if (!DOT_ATOM.test(folded) || !DOT_ATOM.test(raw.replace(/[^\p{ASCII}]/gu, "a")))
    return fail("UTF-8 local part is not a dot-atom or folds to one that routes elsewhere");
  if (Buffer.byteLength(raw, "utf8") > MAX_LOCAL) return fail("local part longer than 64");
  return { ok: true, value: raw };
}

/** A label mixing Latin with Cyrillic or Greek letters: the homograph of an ASCII name (UTS #39). */
function mixedScript(label: string): boolean {
  const latin = /\p{Script=Latin}/u.test(label);
  return latin && (/\p{Script=Cyrillic}/u.test(label) || /\p{Script=Greek}/u.test(label));
}

function parseDomain(raw: string): Part {
  // RFC 5321 §4.1.3 address literals: we route by domain only, and an IP literal would let a
  // client name any host, including ones on our side of the firewall.
  if (raw.startsWith("[")) return fail("IP literal domain");
  if (raw.endsWith(".")) return fail("trailing dot in domain");
  let value = raw.toLowerCase();
  if (/[^\x20-\x7e]/.test(raw)) {
    // smtp-server decodes punycode to Unicode; turn it back, but only when the A-label decodes to
    // exactly what was given — UTS #46 mapping would otherwise fold full-width letters or drop
    // zero-width characters and turn a look-alike into an accepted domain.
    const ascii = domainToASCII(raw);
    if (!ascii || domainToUnicode(ascii) !== value) return fail("invalid internationalised domain");
    if (value.split(".").some(mixedScript)) return fail("label mixes Latin with another script");
    value = ascii;
  }
  if (value.length > 253) return fail("domain longer than 253");
  if (!isDomainName(value)) return fail("not a domain name");
  return { ok: true, value };
}
