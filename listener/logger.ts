// The operational log of the listener: core's Log interface (Powertools' Logger fits it) and a JSON-lines default.
import { type Log, SILENT_LOG } from "#core/log.ts";

export type Logger = Log;

function describe(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** One JSON object per line on the given stream (stdout reaches CloudWatch Logs from Fargate). */
export function jsonLogger(out: { write(line: string): unknown } = process.stdout): Logger {
  const write = (level: string, message: string, fields?: Record<string, unknown>) => {
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, message };
    for (const [k, v] of Object.entries(fields ?? {})) entry[k] = describe(v);
    out.write(`${JSON.stringify(entry)}\n`);
  };
  return {
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}

export const silentLogger: Logger = SILENT_LOG;
