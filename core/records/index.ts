// The record kinds an admin edits, and parsing of one raw record into a typed one.
import type { z } from "zod";
import { type AcceptedDomain, AcceptedDomainSchema } from "./accepted-domain.ts";
import { type DkimSigningConfig, DkimSigningConfigSchema } from "./dkim-signing-config.ts";
import { type ReceiveConnector, ReceiveConnectorSchema } from "./receive-connector.ts";
import { type SendConnector, SendConnectorSchema } from "./send-connector.ts";
import { type SmtpUser, SmtpUserSchema } from "./smtp-user.ts";
import { type TransportSettings, TransportSettingsSchema } from "./transport-settings.ts";

export const RECORD_SCHEMAS = {
  SendConnector: SendConnectorSchema,
  ReceiveConnector: ReceiveConnectorSchema,
  AcceptedDomain: AcceptedDomainSchema,
  SmtpUser: SmtpUserSchema,
  TransportSettings: TransportSettingsSchema,
  DkimSigningConfig: DkimSigningConfigSchema,
} as const;

export type RecordKind = keyof typeof RECORD_SCHEMAS;
export const RECORD_KINDS = Object.keys(RECORD_SCHEMAS) as RecordKind[];

export type AnyRecord =
  | SendConnector
  | ReceiveConnector
  | AcceptedDomain
  | SmtpUser
  | TransportSettings
  | DkimSigningConfig;
export type RecordOf<K extends RecordKind> = z.infer<(typeof RECORD_SCHEMAS)[K]>;

/** The field that names a record of each kind (the sort key in the record table). */
export const RECORD_ID_FIELD: Record<RecordKind, string> = {
  SendConnector: "name",
  ReceiveConnector: "name",
  AcceptedDomain: "domain",
  SmtpUser: "name",
  TransportSettings: "name",
  DkimSigningConfig: "domain",
};

/** A problem with one record: which record, which field, what is wrong and how to fix it. */
export interface RecordProblem {
  /** e.g. `SendConnector "To Internet"`. */
  record: string;
  /** Dotted path, e.g. `addressSpaces[0].domain`; empty for the record as a whole. */
  field: string;
  message: string;
}

export function formatProblem(p: RecordProblem): string {
  return p.field ? `${p.record}: ${p.field}: ${p.message}` : `${p.record}: ${p.message}`;
}

export function recordLabel(raw: unknown): string {
  if (raw === null || typeof raw !== "object") return "record";
  const r = raw as Record<string, unknown>;
  const kind = typeof r.kind === "string" ? r.kind : "record";
  const idField = RECORD_ID_FIELD[kind as RecordKind] ?? "name";
  const id = r[idField];
  return typeof id === "string" ? `${kind} "${id}"` : kind;
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

export type ParseResult<T> = { ok: true; record: T } | { ok: false; problems: RecordProblem[] };

/** Parses one raw record (as stored, e.g. a DynamoDB item) of any kind. Never throws. */
export function parseRecord(raw: unknown): ParseResult<AnyRecord> {
  const record = recordLabel(raw);
  const kind =
    raw !== null && typeof raw === "object" ? (raw as { kind?: unknown }).kind : undefined;
  const schema = RECORD_SCHEMAS[kind as RecordKind];
  if (!schema) {
    return {
      ok: false,
      problems: [
        {
          record,
          field: "kind",
          message: `unknown record kind ${JSON.stringify(kind)}; use one of ${RECORD_KINDS.join(", ")}`,
        },
      ],
    };
  }
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, record: result.data as AnyRecord };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => ({
      record,
      field: fieldPath(issue.path),
      message:
        issue.code === "unrecognized_keys"
          ? `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}; check the spelling against the documented fields`
          : issue.message,
    })),
  };
}

/** Parses a raw record that must be of the given kind. */
export function parseRecordOf<K extends RecordKind>(
  kind: K,
  raw: unknown,
): ParseResult<RecordOf<K>> {
  const r = parseRecord(raw);
  if (r.ok && r.record.kind !== kind) {
    return {
      ok: false,
      problems: [{ record: recordLabel(raw), field: "kind", message: `expected a ${kind} record` }],
    };
  }
  return r as ParseResult<RecordOf<K>>;
}

export type {
  AcceptedDomain,
  DkimSigningConfig,
  ReceiveConnector,
  SendConnector,
  SmtpUser,
  TransportSettings,
};
