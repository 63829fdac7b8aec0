// Error classes the ports throw, so adapters map SDK and system errors to one vocabulary.

/** The queue did not durably accept the message; the caller must not acknowledge it (451 4.3.0). */
export class QueueUnavailableError extends Error {
  override readonly name = "QueueUnavailableError";
}

export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

export type DnsErrorKind = "notFound" | "noData" | "temporary";

export class DnsError extends Error {
  override readonly name = "DnsError";
  readonly kind: DnsErrorKind;
  constructor(kind: DnsErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** A record failed validation; the message names the record, field and fix. */
export class RecordValidationError extends Error {
  override readonly name = "RecordValidationError";
}
