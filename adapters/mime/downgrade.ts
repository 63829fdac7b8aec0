// RFC 6152 §3: 8-bit MIME content re-encoded as 7-bit (quoted-printable text, base64 otherwise), for DKIM before signing and a next hop without 8BITMIME.
import { encode as base64Encode, wrap as base64Wrap } from "nodemailer/lib/base64";
import { encode as qpEncode, wrap as qpWrap } from "nodemailer/lib/qp";

const CRLF = "\r\n";
const has8bit = (b: Uint8Array) => b.some((x) => x > 0x7f);

/** The fields of a header block, unfolded, by lower-case name (first occurrence wins). */
function fields(header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of header.split(/\r\n(?![ \t])/)) {
    const colon = f.indexOf(":");
    if (colon <= 0) continue;
    const name = f.slice(0, colon).trim().toLowerCase();
    if (!out.has(name))
      out.set(
        name,
        f
          .slice(colon + 1)
          .replace(/\r\n[ \t]/g, " ")
          .trim(),
      );
  }
  return out;
}

function param(value: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i").exec(value);
  return m?.[1] ?? m?.[2];
}

/** The header block with Content-Transfer-Encoding replaced (and folded lines of it dropped). */
function withEncoding(header: string, encoding: string, addMimeVersion: boolean): string {
  const kept = header
    .split(/\r\n(?![ \t])/)
    .filter((f) => !/^content-transfer-encoding\s*:/i.test(f));
  if (addMimeVersion) kept.push("MIME-Version: 1.0");
  kept.push(`Content-Transfer-Encoding: ${encoding}`);
  return kept.filter((f) => f !== "").join(CRLF);
}

/**
 * One MIME entity (header, empty line, body) in 7-bit form, or undefined when it cannot be: 8-bit
 * in a header (that is SMTPUTF8's business, RFC 6532, not a transfer encoding's) or in a part that
 * claims to be encoded already.
 */
function entity(raw: Buffer, top: boolean): Buffer | undefined {
  if (!has8bit(raw)) return raw;
  // A part with no header fields starts with its empty line (RFC 2046 §5.1.1).
  const split = raw.subarray(0, 2).toString("latin1") === CRLF ? -2 : raw.indexOf("\r\n\r\n");
  const headerBytes = split === -1 ? raw : raw.subarray(0, Math.max(split, 0));
  if (has8bit(headerBytes)) return undefined;
  const header = headerBytes.toString("latin1");
  const body = split === -1 ? Buffer.alloc(0) : raw.subarray(split + 4);
  const f = fields(header);
  const type = (f.get("content-type") ?? "text/plain").toLowerCase();
  const cte = (f.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  const join = (b: Buffer) => Buffer.concat([Buffer.from(`${header}\r\n\r\n`, "latin1"), b]);

  if (type.startsWith("multipart/")) {
    const boundary = param(f.get("content-type") ?? "", "boundary");
    if (!boundary) return undefined;
    const out = multipart(body, boundary);
    return out && join(out);
  }
  // RFC 2046 §5.2.1: message/rfc822 may not be encoded; its own parts are converted instead.
  if (type.startsWith("message/rfc822")) {
    const inner = entity(body, false);
    return inner && join(inner);
  }
  if (cte === "base64" || cte === "quoted-printable") return undefined;
  const text = type.startsWith("text/");
  const encoded = text ? qpWrap(qpEncode(body), 76) : base64Wrap(base64Encode(body), 76);
  const head = withEncoding(
    header,
    text ? "quoted-printable" : "base64",
    top && !f.has("mime-version"),
  );
  return Buffer.from(`${head}\r\n\r\n${encoded.replace(/\r?\n/g, CRLF)}`, "latin1");
}

/** RFC 2046 §5.1.1: each body part between "--boundary" lines is converted on its own. */
function multipart(body: Buffer, boundary: string): Buffer | undefined {
  const text = body.toString("latin1");
  const delimiter = new RegExp(
    `(^|\\r\\n)--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(--)?[ \\t]*(?=\\r\\n|$)`,
    "g",
  );
  const pieces: Buffer[] = [];
  let last = 0;
  let inPart = false;
  for (const m of text.matchAll(delimiter)) {
    const chunk = Buffer.from(text.slice(last, m.index), "latin1");
    // The CRLF ending the delimiter line is not part of the body part.
    const lead = inPart && chunk.subarray(0, 2).toString("latin1") === CRLF ? 2 : 0;
    const part = inPart ? entity(chunk.subarray(lead), false) : has8bit(chunk) ? undefined : chunk;
    if (!part) return undefined;
    pieces.push(chunk.subarray(0, lead), part, Buffer.from(m[0], "latin1"));
    last = (m.index ?? 0) + m[0].length;
    inPart = !m[2];
  }
  const rest = Buffer.from(text.slice(last), "latin1");
  if (has8bit(rest)) return undefined;
  pieces.push(rest);
  return Buffer.concat(pieces);
}

/**
 * The message in 7-bit form, or undefined when it cannot be converted (then a recipient behind a
 * hop without 8BITMIME gets 5.6.3). Deterministic, and a 7-bit message comes back unchanged: route
 * converts a message before DKIM signing it (RFC 6376 §5.3), so the courier finds nothing to
 * convert after the signature is made.
 */
export function downgradeTo7bit(raw: Uint8Array): Buffer | undefined {
  return entity(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), true);
}
