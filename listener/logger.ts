// The operational log of the listener: a minimal interface (Powertools' Logger fits it) and a JSON-lines default.

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

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

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
