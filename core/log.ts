// The structured log every part writes to: message first, then fields (Powertools' Logger fits it).

export interface Log {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const SILENT_LOG: Log = { info() {}, warn() {}, error() {} };
