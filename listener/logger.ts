// The operational log of the listener: core's Log port on Powertools' Logger, the same JSON shape as the functions' logs.
import { componentLog, type LineSink } from "#adapters/observability/logger.ts";
import { type Log, SILENT_LOG } from "#core/log.ts";

export type Logger = Log;

/** The listener's component name in every line's `service` key. */
export const LISTENER_SERVICE = "relay-listener";

/** JSON lines on the given stream (stdout reaches CloudWatch Logs from Fargate; local mode uses stderr). */
export function listenerLog(out: LineSink = process.stdout): Logger {
  return componentLog(LISTENER_SERVICE, out);
}

export const silentLogger: Logger = SILENT_LOG;
