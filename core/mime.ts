// RFC 5322 and MIME text helpers: dates, header folding, RFC 2047 words, quoted-printable.

export const CRLF = "\r\n";
export const MAX_LINE = 998; // RFC 5322 §2.1.1, octets without CRLF
export const FOLD_AT = 78; // RFC 5322 §2.1.1 "SHOULD be no more than 78 characters"
export const utf8 = new TextEncoder();
export const isPrintableAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** RFC 5322 §3.3 date-time, e.g. "Mon, 02 Mar 2026 09:00:00 +0000". */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, "+0000");
}

export const octets = (cp: number) => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

/** Splits a line longer than 998 octets into folded pieces (continuations start with a space). */
export function hardWrap(line: string): string[] {
  if (utf8.encode(line).length <= MAX_LINE) return [line];
  const out: string[] = [];
  let cur = "";
  let size = 0;
  for (const ch of line) {
    const n = octets(ch.codePointAt(0) ?? 0);
    if (size + n > MAX_LINE) {
      out.push(cur);
      cur = " ";
      size = 1;
    }
    cur += ch;
    size += n;
  }
  out.push(cur);
  return out;
}

/** One header field, folded at spaces near 78 characters and never over 998 octets. */
export function field(name: string, value: string): string {
  const words = value.replace(/\s+/g, " ").trim().split(" ");
  const lines: string[] = [];
  let line = `${name}:`;
  for (const w of words) {
    if (line.length + 1 + w.length > FOLD_AT && line.trim().length > name.length + 1) {
      lines.push(line);
      line = "";
    }
    line += ` ${w}`;
  }
  lines.push(line);
  return lines.flatMap(hardWrap).join(CRLF);
}

/** Decodes RFC 2047 encoded-words ("=?UTF-8?B?…?="), leaving ones in unknown charsets as they are. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, "$1$2") // RFC 2047 §6.2: space between adjacent encoded-words is dropped
    .replace(
      /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g,
      (word, charset: string, enc: string, text) => {
        try {
          const bytes =
            enc.toUpperCase() === "B"
              ? Buffer.from(text, "base64")
              : Buffer.from(
                  text
                    .replace(/_/g, " ")
                    .replace(/=([0-9A-Fa-f]{2})/g, (_m: string, h: string) =>
                      String.fromCharCode(Number.parseInt(h, 16)),
                    ),
                  "latin1",
                );
          return new TextDecoder(charset.split("*")[0]).decode(bytes);
        } catch {
          return word;
        }
      },
    );
}

/** RFC 2047 B-encoded words for text that is not plain ASCII; each word at most 75 characters. */
export function encodeWords(text: string): string {
  if (isPrintableAscii(text) && !text.includes("=?")) return text;
  const words: string[] = [];
  let chunk = "";
  for (const ch of text) {
    // 45 octets make 60 base64 characters: "=?UTF-8?B?" + 60 + "?=" = 72.
    if (utf8.encode(chunk + ch).length > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, "utf8").toString("base64")}?=`).join(" ");
}

/** Quoted-printable (RFC 2045 §6.7) of CRLF text; lines at most 76 characters. */
export function quotedPrintable(text: string): string {
  return text
    .split(CRLF)
    .map((line) => {
      const bytes = utf8.encode(line);
      const pieces: string[] = [];
      let cur = "";
      bytes.forEach((b, i) => {
        const plain =
          (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && i < bytes.length - 1);
        const token = plain
          ? String.fromCharCode(b)
          : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
        if (cur.length + token.length > 75) {
          pieces.push(`${cur}=`);
          cur = "";
        }
        cur += token;
      });
      pieces.push(cur);
      return pieces.join(CRLF);
    })
    .join(CRLF);
}

/** CRLF line ends throughout, no trailing blank lines. */
export function normalizeLines(text: string): string[] {
  return text
    .replace(/\r\n|\r|\n/g, "\n")
    .replace(/\n+$/, "")
    .split("\n");
}

/** The first value of a header field in a header block, unfolded. */
export function headerValue(headers: string, name: string): string | undefined {
  const unfolded = normalizeLines(headers)
    .join("\n")
    .replace(/\n[ \t]+/g, " ");
  const prefix = `${name.toLowerCase()}:`;
  const line = unfolded.split("\n").find((l) => l.toLowerCase().startsWith(prefix));
  return line?.slice(prefix.length).trim();
}
