// Parsing one Received trace field (RFC 5321 §4.4, RFC 5322 §3.6.7) into its clauses, leniently: real servers write every variation.

export interface ReceivedClauses {
  from?: string;
  /** The comment after the from name: the TCP-info, e.g. "mail.contoso.com [203.0.113.5]". */
  fromInfo?: string;
  /** The client's address from the TCP-info (or a bracketed from name). */
  fromIp?: string;
  by?: string;
  byInfo?: string;
  via?: string;
  /** The protocol, e.g. ESMTPS, LMTP or "Microsoft SMTP Server". */
  with?: string;
  withInfo?: string;
  id?: string;
  for?: string;
  /** The date after the last semicolon, when one is there and readable. */
  date?: Date;
  dateText?: string;
}

type Token = { word: string } | { comment: string };

/** Words and (nested) comments outside of the date part; an unclosed comment runs to the end. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(") {
      let depth = 0;
      let j = i;
      for (; j < text.length; j++) {
        if (text[j] === "\\") j++;
        else if (text[j] === "(") depth++;
        else if (text[j] === ")" && --depth === 0) break;
      }
      out.push({ comment: text.slice(i + 1, j).trim() });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s(]/.test(text[j] as string)) j++;
      out.push({ word: text.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** The index of the last semicolon outside comments, which starts the date (RFC 5322 §3.6.7). */
function dateSeparator(text: string): number {
  let depth = 0;
  let at = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (c === ";" && depth === 0) at = i;
  }
  return at;
}

function listOf(map: Record<string, string[]>, key: string): string[] {
  map[key] ??= [];
  return map[key];
}

const CLAUSES = new Set(["from", "by", "via", "with", "id", "for"]);

const IP_IN_INFO = /\[(?:IPv6:)?([0-9a-f.:]+)\]|\(?\b(\d{1,3}(?:\.\d{1,3}){3})\b/i;

/** Parses a date as mail writes it: RFC 5322 with an optional zone comment, obsolete zones included. */
export function parseMailDate(text: string): Date | undefined {
  const clean = text
    .replace(/\([^)]*\)/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (clean === "") return undefined;
  const d = new Date(clean);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Real Received fields are a few hundred characters; a longer one is read up to here. */
export const MAX_RECEIVED_CHARS = 8192;

/** The clauses of one Received field's value (unfolded). Never throws. */
export function parseReceived(value: string): ReceivedClauses {
  const out: ReceivedClauses = {};
  const semi = dateSeparator(value);
  const body = (semi >= 0 ? value.slice(0, semi) : value).slice(0, MAX_RECEIVED_CHARS);
  if (semi >= 0) {
    out.dateText = value.slice(semi + 1, semi + 200).trim();
    const d = parseMailDate(out.dateText);
    if (d) out.date = d;
  }
  let clause: keyof ReceivedClauses | undefined;
  const words: Record<string, string[]> = {};
  const infos: Record<string, string[]> = {};
  for (const t of tokens(body)) {
    if ("word" in t) {
      const lower = t.word.toLowerCase();
      // A keyword starts a clause unless it is the first word of a multi-word "with" value.
      if (CLAUSES.has(lower) && !(clause === "with" && (words.with ?? []).length === 0)) {
        clause = lower as keyof ReceivedClauses;
        words[clause] ??= [];
        continue;
      }
      if (clause) listOf(words, clause).push(t.word);
    } else if (clause) listOf(infos, clause).push(t.comment);
  }
  const set = (key: "from" | "by" | "via" | "with" | "id" | "for", value: string | undefined) => {
    if (value !== undefined && value !== "") out[key] = value.slice(0, 255);
  };
  for (const key of ["from", "by", "via", "with", "id", "for"] as const)
    set(key, words[key]?.join(" "));
  const info = (key: string) => infos[key]?.join(" ").slice(0, 255) || undefined;
  const fromInfo = info("from");
  if (fromInfo) out.fromInfo = fromInfo;
  const byInfo = info("by");
  if (byInfo) out.byInfo = byInfo;
  const withInfo = info("with") ?? info("id");
  if (withInfo) out.withInfo = withInfo;
  const ip =
    IP_IN_INFO.exec(fromInfo ?? "") ?? IP_IN_INFO.exec(out.from?.startsWith("[") ? out.from : "");
  const address = ip?.[1] ?? ip?.[2];
  if (address) out.fromIp = address;
  return out;
}

export interface ProtocolMeaning {
  /** True: the hop was encrypted; false: it was not; undefined: the field does not say. */
  tls?: boolean;
  /** True: the client authenticated (SMTP AUTH). */
  auth?: boolean;
  meaning: string;
}

/** What a `with` value says about TLS and AUTH (RFC 3848 and RFC 6531's UTF8 forms). */
export function protocolMeaning(
  withValue: string | undefined,
  info: string | undefined,
): ProtocolMeaning {
  const w = (withValue ?? "").trim();
  const m = /^(UTF8)?(E?SMTP|LMTP)(S)?(A)?$/i.exec(w.split(/\s+/)[0] ?? "");
  if (m) {
    const tls = m[3] !== undefined;
    const auth = m[4] !== undefined;
    const base =
      m[2]?.toUpperCase() === "LMTP" ? "LMTP" : m[2]?.toUpperCase() === "ESMTP" ? "ESMTP" : "SMTP";
    const parts = [base, tls ? "TLS" : "no TLS", auth ? "authenticated" : "not authenticated"];
    return { tls, auth, meaning: parts.join(", ") };
  }
  if (/^microsoft smtp server/i.test(w)) {
    // Exchange writes its protocol as a product name; TLS shows as "(version=TLS1_2, cipher=...)".
    const tls = /version=TLS/i.test(info ?? "");
    return { tls, meaning: `Exchange SMTP, ${tls ? "TLS" : "no TLS"}` };
  }
  if (/^https?$/i.test(w)) return { tls: /s$/i.test(w), meaning: "web submission" };
  if (w === "") return { meaning: "not given" };
  return { meaning: w.toLowerCase() === "local" ? "local submission" : `"${w.slice(0, 40)}"` };
}
