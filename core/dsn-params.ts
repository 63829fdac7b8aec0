// The DSN SMTP extension's parameters (RFC 3461): parsing NOTIFY, RET, ENVID and ORCPT, xtext, and who gets which notice.
export type NotifyKind = "SUCCESS" | "FAILURE" | "DELAY";

/** RCPT TO parameters. `notify` absent: the sender said nothing (then failures and delays are reported). */
export interface RecipientDsn {
  /** [] is NOTIFY=NEVER. */
  notify?: NotifyKind[];
  /** The original recipient as `type;address` with the xtext decoded, e.g. "rfc822;a@b". */
  orcpt?: string;
}

/** MAIL FROM parameters. */
export interface MessageDsn {
  ret?: "FULL" | "HDRS";
  /** The envelope id, xtext decoded (printable ASCII). */
  envid?: string;
}

export type ParamParse<T> = { ok: true; value: T } | { ok: false; reason: string };

const fail = (reason: string) => ({ ok: false as const, reason });

/** RFC 3461 §4: xtext is printable ASCII but "+" and "=", with "+XX" (upper-case hex) for any other octet. */
export function decodeXtext(text: string): string | undefined {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 2;
    } else if (c < 33 || c > 126 || c === 0x3d) return undefined;
    else out += text[i];
  }
  return out;
}

/** The xtext form of printable ASCII text: "+", "=" and anything outside 33..126 as "+XX". */
export function encodeXtext(text: string): string {
  return [...Buffer.from(text, "utf8")]
    .map((b) =>
      b < 33 || b > 126 || b === 0x2b || b === 0x3d
        ? `+${b.toString(16).toUpperCase().padStart(2, "0")}`
        : String.fromCharCode(b),
    )
    .join("");
}

/** RFC 3461 §4.1: NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY; NEVER with others is an error. */
export function parseNotify(value: string): ParamParse<NotifyKind[]> {
  const items = value.toUpperCase().split(",");
  if (items.includes("NEVER")) {
    if (items.length > 1) return fail("NOTIFY=NEVER combined with other values");
    return { ok: true, value: [] };
  }
  const out: NotifyKind[] = [];
  for (const item of items) {
    if (item !== "SUCCESS" && item !== "FAILURE" && item !== "DELAY")
      return fail(`unknown NOTIFY value ${JSON.stringify(item)}`);
    if (out.includes(item)) return fail(`NOTIFY lists ${item} twice`);
    out.push(item);
  }
  return { ok: true, value: out };
}

/**
 * RFC 3461 §4.2: ORCPT=addr-type;xtext, given decoded (smtp-server decodes xtext; decodeXtext
 * does it for raw text). The type is an atom ("rfc822", or RFC 6533's "utf-8"); the address may
 * hold no control characters or spaces. The RFC bounds the parameter at 500 characters.
 */
export function parseOrcpt(value: string): ParamParse<string> {
  if (value.length > 500) return fail("ORCPT longer than 500 characters");
  const semi = value.indexOf(";");
  if (semi <= 0) return fail("ORCPT without an address type");
  const type = value.slice(0, semi);
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(type)) return fail("ORCPT address type is not an atom");
  const address = value.slice(semi + 1);
  if (address === "" || /[\s\p{Cc}]/u.test(address))
    return fail("ORCPT address is empty or has spaces");
  return { ok: true, value: `${type.toLowerCase()};${address}` };
}

/** RFC 3461 §4.4: ENVID (decoded) is printable US-ASCII, at most 100 characters. */
export function parseEnvid(value: string): ParamParse<string> {
  if (value.length > 100) return fail("ENVID longer than 100 characters");
  if (!/^[\x20-\x7e]+$/.test(value)) return fail("ENVID is not printable ASCII");
  return { ok: true, value };
}

/** RFC 3461 §4.3: RET=FULL or RET=HDRS. */
export function parseRet(value: string): ParamParse<"FULL" | "HDRS"> {
  const v = value.toUpperCase();
  return v === "FULL" || v === "HDRS" ? { ok: true, value: v } : fail("RET is not FULL or HDRS");
}

/**
 * Whether the sender asked for this kind of notice about a recipient. Without NOTIFY the relay
 * reports failures and delays, as RFC 3461 §4.1 leaves to the implementation and Exchange and
 * Postfix do; NOTIFY=NEVER (an empty list) reports nothing.
 */
export function wantsNotice(dsn: RecipientDsn | undefined, kind: NotifyKind): boolean {
  if (!dsn?.notify) return kind !== "SUCCESS";
  return dsn.notify.includes(kind);
}

/** The RCPT parameters of one recipient; keys are lower-cased addresses. */
export function recipientDsnOf(
  table: Record<string, RecipientDsn> | undefined,
  recipient: string,
): RecipientDsn | undefined {
  return table?.[recipient.toLowerCase()];
}
