// Reads a delivery status notification back (RFC 6522 multipart/report, RFC 3464 fields) so tests can check what a sender gets.
import { simpleParser } from "mailparser";

export interface ParsedReport {
  /** Top-level Content-Type value, e.g. "multipart/report". */
  contentType: string;
  reportType: string | undefined;
  subject: string | undefined;
  from: string | undefined;
  autoSubmitted: string | undefined;
  /** The human-readable first part, decoded. */
  text: string;
  /** Content types of the MIME parts in order. */
  partTypes: string[];
  /** Per-message fields of message/delivery-status, names lower-cased. */
  perMessage: Record<string, string>;
  /** One field map per recipient. */
  perRecipient: Record<string, string>[];
  /** The text/rfc822-headers part. */
  originalHeaders: string;
}

function fields(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

function splitHead(text: string): { head: string; body: string } {
  const i = text.search(/\r?\n\r?\n/);
  if (i < 0) return { head: text, body: "" };
  const sep = /\r?\n\r?\n/.exec(text.slice(i))![0];
  return { head: text.slice(0, i), body: text.slice(i + sep.length) };
}

export async function parseReport(raw: Buffer): Promise<ParsedReport> {
  const parsed = await simpleParser(raw);
  const ct = parsed.headers.get("content-type") as
    | { value: string; params: Record<string, string> }
    | undefined;
  const boundary = ct?.params.boundary ?? "";
  const parts = raw
    .toString("utf8")
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((p) => splitHead(p.replace(/^\r?\n/, "")))
    .map(({ head, body }) => ({ headers: fields(head), body }));
  const status = parts.find((p) =>
    p.headers["content-type"]?.startsWith("message/delivery-status"),
  );
  const groups = (status?.body ?? "")
    .trim()
    .split(/\r?\n\r?\n/)
    .map(fields);
  const headersPart = parts.find((p) =>
    p.headers["content-type"]?.startsWith("text/rfc822-headers"),
  );
  const subject = parsed.subject;
  const from = parsed.from?.text;
  const auto = parsed.headers.get("auto-submitted");
  return {
    contentType: ct?.value ?? "",
    reportType: ct?.params["report-type"],
    subject,
    from,
    autoSubmitted: typeof auto === "string" ? auto : undefined,
    text: parsed.text ?? "",
    partTypes: parts.map((p) => (p.headers["content-type"] ?? "").split(";")[0]!.trim()),
    perMessage: groups[0] ?? {},
    perRecipient: groups.slice(1),
    originalHeaders: headersPart?.body ?? "",
  };
}
