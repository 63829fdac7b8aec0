// The functions' loggers (Powertools, shared with the listener and local mode) and the bridge from a logger to the send protocol log port.
import type { Logger } from "@aws-lambda-powertools/logger";
import type { SendProtocolLog } from "#core/usecases/deps.ts";

export { createLogger, logOn as useCaseLog } from "#adapters/observability/logger.ts";

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
