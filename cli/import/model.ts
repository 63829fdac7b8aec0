// What an Exchange object becomes: one record (or a skip, with the reason) and notes on every property that did not carry over.
import { isEmpty, prop, ValueError } from "./values.ts";

export type ImportKind =
  | "AcceptedDomain"
  | "ReceiveConnector"
  | "SendConnector"
  | "TransportSettings";

/**
 * Exchange's AuthMechanisms [Flags] enum in declaration order (Tls = 1, Integrated = 2, ...), shared
 * by a receive connector's AuthMechanism and a send connector's SmartHostAuthMechanism.
 */
export const AUTH_MECHANISMS = [
  "Tls",
  "Integrated",
  "BasicAuth",
  "BasicAuthRequireTLS",
  "ExchangeServer",
  "ExternalAuthoritative",
] as const;

/** A property that did not carry over, or carried over changed: what happened and what to do instead. */
export interface Note {
  property: string;
  message: string;
}

export interface MappedItem {
  kind: ImportKind;
  /** The record's id: connector name, domain, or "default" for the transport settings. */
  id: string;
  /** Where it came from: "send-connectors.json[2]". */
  source: string;
  /** The record to write; absent when the whole object is skipped. */
  record?: Record<string, unknown>;
  /** Why the whole object is not imported. */
  skip?: string;
  notes: Note[];
}

/** Why an Exchange property has no counterpart here; `ignore` says which values need no note. */
export interface Unmapped {
  reason: string;
  ignore?: (value: unknown) => boolean;
}

type Obj = Record<string, unknown>;

/** Reads one Exchange object's properties, turning unreadable values into notes instead of failures. */
export class PropertyReader {
  readonly notes: Note[] = [];
  readonly object: Obj;
  constructor(object: Obj) {
    this.object = object;
  }

  raw(name: string): unknown {
    return prop(this.object, name);
  }

  note(property: string, message: string): void {
    this.notes.push({ property, message });
  }

  /** The property through `parse`; undefined when absent or unreadable (then noted). */
  read<T>(name: string, parse: (v: unknown) => T | undefined): T | undefined {
    const v = this.raw(name);
    if (isEmpty(v)) return undefined;
    try {
      return parse(v);
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      this.note(name, `${error.message}; not imported, this relay's default applies`);
      return undefined;
    }
  }

  /** A note for each property of `table` that is set to something other than an ignorable value. */
  unmapped(table: Record<string, Unmapped>): void {
    for (const [name, u] of Object.entries(table)) {
      const v = this.raw(name);
      if (isEmpty(v) || v === false || u.ignore?.(v)) continue;
      this.note(name, u.reason);
    }
  }
}

/** Sets `field` when the value is defined, so the schema's default applies otherwise. */
export function setIf(record: Obj, field: string, value: unknown): void {
  if (value !== undefined) record[field] = value;
}

/** Exchange's Name, else the last part of its Identity ("EX01\Default Frontend EX01"). */
export function nameOf(r: PropertyReader): string | undefined {
  const name = r.raw("Name");
  if (typeof name === "string" && name.trim() !== "") return name.trim();
  const identity = r.raw("Identity");
  const t =
    typeof identity === "string"
      ? identity
      : typeof identity === "object" && identity !== null
        ? (prop(identity as Obj, "Name") ?? prop(identity as Obj, "RawIdentity"))
        : undefined;
  if (typeof t !== "string" || t.trim() === "") return undefined;
  return t.slice(t.lastIndexOf("\\") + 1).trim();
}
