// The header section of a saved message, bounded and unfolded (RFC 5322 §2.2), from bytes that may be anything.

/** A message bigger than any this relay accepts (36 MB plus encoding) is not a saved message. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Header sections of real mail are kilobytes; a megabyte is generous and keeps parsing cheap. */
export const MAX_HEADER_BYTES = 1024 * 1024;

export class MessageInputError extends Error {
  override readonly name = "MessageInputError";
  readonly exitCode = 2;
}

export interface HeaderField {
  name: string;
  /** Unfolded: CRLF followed by white space removed (RFC 5322 §2.2.3). */
  value: string;
}

export interface HeaderSection {
  fields: HeaderField[];
  /** Lines that were not `name: value`; counted so a garbled paste is visible. */
  malformedLines: number;
  /** True when the section ran past MAX_HEADER_BYTES without an empty line; the rest was not read. */
  truncated: boolean;
}

/** The fields in order; latin1 keeps every byte, so 8-bit and binary input never throws. */
export function readHeaderSection(message: Buffer): HeaderSection {
  if (message.length === 0) throw new MessageInputError("the message is empty");
  const limit = Math.min(message.length, MAX_HEADER_BYTES);
  const head = message.subarray(0, limit).toString("latin1");
  const end = /\r?\n\r?\n/.exec(head);
  const truncated = end === null && message.length > MAX_HEADER_BYTES;
  const section = end ? head.slice(0, end.index) : head;
  const fields: HeaderField[] = [];
  let malformedLines = 0;
  for (const line of section.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      const last = fields[fields.length - 1] as HeaderField;
      last.value += ` ${line.trim()}`;
      continue;
    }
    const m = /^([\x21-\x39\x3b-\x7e]{1,200}):\s*(.*)$/.exec(line);
    if (m?.[1]) fields.push({ name: m[1], value: (m[2] ?? "").trim() });
    else if (line.trim() !== "") malformedLines++;
  }
  if (fields.length === 0)
    throw new MessageInputError(
      "no header fields found: save the whole message (in Outlook: File > Properties > Internet headers; elsewhere: Show original / View source)",
    );
  return { fields, malformedLines, truncated };
}

export const fieldsNamed = (section: HeaderSection, name: string) =>
  section.fields.filter((f) => f.name.toLowerCase() === name.toLowerCase()).map((f) => f.value);
