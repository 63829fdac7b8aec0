// Powertools' Logger for every component (listener, functions, local mode): one JSON shape, so one Logs Insights query covers them all.
import { Logger, type LogItem } from "@aws-lambda-powertools/logger";
import type { ConstructorOptions } from "@aws-lambda-powertools/logger/types";
import type { Log } from "#core/log.ts";

/** Where log lines go: stdout in AWS (Lambda and Fargate ship it to CloudWatch Logs), stderr locally. */
export interface LineSink {
  write(line: string): unknown;
}

/**
 * Powertools' Logger, writing to a given stream instead of its process-wide console. Every line
 * has the same keys as in Lambda — timestamp, level ("INFO"), service, message, sampling_rate,
 * then the fields — and Powertools' replacer (Errors as name/message/stack, no circular
 * references). Lambda context keys (function_name, cold_start, ...) are added by the middleware.
 */
class SinkLogger extends Logger {
  readonly #out: LineSink;

  constructor(options: ConstructorOptions, out: LineSink) {
    super(options);
    this.#out = out;
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    // One line per entry whatever POWERTOOLS_DEV's indentation says: the sink is a JSON-lines stream.
    this.#out.write(`${JSON.stringify(log.getAttributes(), this.getJsonReplacer())}\n`);
  }

  /** Children (createChild) write to the same stream. */
  protected override createLogger(options: ConstructorOptions = {}): Logger {
    return new SinkLogger(options, this.#out);
  }
}

/**
 * A component's logger: `service` names the component (relay-listener, relay-route,
 * relay-deliver). POWERTOOLS_LOG_LEVEL sets the level (default INFO). Without `out`, Powertools'
 * own console (stdout; errors to stderr) is used, as in Lambda.
 */
export function createLogger(service: string, out?: LineSink): Logger {
  return out ? new SinkLogger({ serviceName: service }, out) : new Logger({ serviceName: service });
}

/** core's Log port on a Powertools logger (extra fields only when given, as Powertools expects). */
export function logOn(logger: Logger): Log {
  return {
    info: (message, extra) => (extra ? logger.info(message, extra) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra) : logger.error(message)),
  };
}

/** A component's Log port in one call: `componentLog("relay-listener", process.stderr)`. */
export const componentLog = (service: string, out?: LineSink): Log =>
  logOn(createLogger(service, out));
