// The Powertools logger of the Lambda functions, and the bridges from it to the use cases' log and protocol log ports.
import { Logger } from "@aws-lambda-powertools/logger";
import type { SendProtocolLog, UseCaseLog } from "#core/usecases/deps.ts";

/** One logger per function; POWERTOOLS_LOG_LEVEL and POWERTOOLS_SERVICE_NAME override these defaults. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

export function useCaseLog(logger: Logger): UseCaseLog {
  return {
    info: (message, extra) => (extra ? logger.info(message, extra) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra) : logger.error(message)),
  };
}

/**
 * The send protocol log as structured log lines (one per SMTP line, as Exchange's SmtpSend log has
 * one per line), so CloudWatch Logs Insights can filter by connector and session.
 */
export function loggerProtocolLog(logger: Logger): SendProtocolLog {
  return {
    write: (l) =>
      logger.info("smtp-send", {
        connector: l.connector,
        session: l.session,
        remote: l.remote,
        direction: l.direction,
        line: l.line,
        at: l.at.toISOString(),
      }),
  };
}
