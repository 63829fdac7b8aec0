// Message bodies in queue messages: inline when small, by claim check when large; reading them back; dropping them when done.
import type { BodyRef, InlineBody } from "../message.ts";
import { FINAL_STATUSES, type MessageStore, type TrackingStore } from "../ports.ts";
import { DEFAULT_INLINE_BODY_LIMIT, type RelayDeps } from "./deps.ts";

export function decodeInline(ref: InlineBody): Uint8Array {
  return "text" in ref
    ? new Uint8Array(Buffer.from(ref.text, "latin1"))
    : new Uint8Array(Buffer.from(ref.inline, "base64"));
}

/**
 * A body inline in a queue message. Plain US-ASCII (TAB, CR, LF and printable characters: RFC 5322
 * text, which MIME makes of nearly all mail) goes as a JSON string, about 1.03 times its size once
 * JSON escapes CR and LF, where base64 takes 1.33: a 50 KB message then fits one 64 KB SQS request
 * chunk instead of two, on both queues, and crosses the NAT smaller. Anything else (8-bit, or text
 * so full of quotes that escaping would outgrow base64) stays base64.
 */
export function inlineBody(raw: Uint8Array): InlineBody {
  // A view, not a copy: the listener hands over a 50 KB Buffer per message.
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const escaped = jsonEscapes(bytes);
  const base64Length = Math.ceil(raw.byteLength / 3) * 4;
  return escaped >= 0 && raw.byteLength + escaped <= base64Length
    ? { text: bytes.toString("latin1") }
    : { inline: bytes.toString("base64") };
}

/** How many bytes JSON escapes with one more character (TAB, LF, CR, `"`, `\`); -1 if any byte is not plain text. */
function jsonEscapes(bytes: Uint8Array): number {
  let escaped = 0;
  const n = bytes.length;
  // Indexed loop with the common case (0x23..0x7E but `\`) tested first: a hot path per listener message.
  for (let i = 0; i < n; i++) {
    const c = bytes[i] as number;
    if (c >= 0x23 && c <= 0x7e && c !== 0x5c) continue;
    if (c === 0x22 || c === 0x5c || c === 0x09 || c === 0x0a || c === 0x0d) escaped++;
    else if (c !== 0x20 && c !== 0x21) return -1;
  }
  return escaped;
}

/** The raw message; rejects with NotFoundError when a claim-checked body is gone. */
export async function readBody(store: MessageStore, ref: BodyRef): Promise<Uint8Array> {
  return "storeKey" in ref ? store.get(ref.storeKey) : decodeInline(ref);
}

/** Inline up to the limit, else stored under `key` (the relay message id) and referenced. */
export async function bodyRefFor(deps: RelayDeps, key: string, raw: Uint8Array): Promise<BodyRef> {
  if (raw.byteLength <= (deps.inlineBodyLimit ?? DEFAULT_INLINE_BODY_LIMIT)) return inlineBody(raw);
  await deps.messages.put(key, raw);
  return { storeKey: key };
}

/**
 * The body a delivery job carries: the submission's own reference, unless it is inline and larger
 * than the limit (a listener with a higher threshold), in which case it moves to the store.
 */
export async function jobBodyRef(deps: RelayDeps, key: string, ref: BodyRef): Promise<BodyRef> {
  if ("storeKey" in ref) return ref;
  const raw = decodeInline(ref);
  return raw.byteLength <= (deps.inlineBodyLimit ?? DEFAULT_INLINE_BODY_LIMIT)
    ? ref
    : bodyRefFor(deps, key, raw);
}

/** The header block of a raw message (up to the first empty line), CRLF line ends. */
export function headerBlock(raw: Uint8Array): string {
  const text = Buffer.from(raw).toString("utf8");
  const end = text.search(/\r?\n\r?\n/);
  return (end < 0 ? text : text.slice(0, end)).replace(/\r?\n/g, "\r\n");
}

/** The first value of a header field, unfolded. */
export function headerField(headers: string, name: string): string | undefined {
  const unfolded = headers.replace(/\r?\n[ \t]+/g, " ");
  const prefix = `${name.toLowerCase()}:`;
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(prefix));
  return line?.slice(prefix.length).trim();
}

/**
 * Deletes a claim-checked body once every recipient row of the message is final: other jobs of
 * the same message (other domains, deferred recipients) still read it until then.
 */
export async function dropBodyIfDone(
  tracking: TrackingStore,
  store: MessageStore,
  messageId: string,
  ref: BodyRef,
): Promise<boolean> {
  if (!("storeKey" in ref)) return false;
  const rows = await tracking.listByMessage(messageId);
  if (rows.length === 0 || !rows.every((r) => FINAL_STATUSES.includes(r.status))) return false;
  await store.delete(ref.storeKey);
  return true;
}
