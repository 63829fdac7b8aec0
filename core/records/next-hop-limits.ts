// Fields for limits per next hop: concurrency and rate on the send connector, defaults, throttle table and circuit breaker in TransportSettings.
import { z } from "zod";

const count = (what: string) =>
  z
    .number({ message: `must be a whole number of ${what}` })
    .int({ message: `must be a whole number of ${what}` })
    .positive({ message: `must be at least 1 ${what.replace(/s$/, "")}` });

/** A regular expression (case-insensitive) matched against "421 4.7.0 text"; refused when it does not compile. */
const replyPattern = z
  .string()
  .trim()
  .min(1)
  .refine(
    (v) => {
      try {
        new RegExp(v, "i");
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a regular expression; use e.g. "^421 4\\.7\\.0 .*TSS04"' },
  );

/**
 * On the send connector, Exchange's names; unset, TransportSettings' value applies. Exchange keeps
 * MaxPerDomainOutboundConnections on the transport service and SmtpMaxMessagesPerConnection on the
 * connector; both are here so one connector (a smart host with a low cap) can differ.
 */
export const CONNECTOR_NEXT_HOP_LIMITS = {
  /** Connections at once to one next hop (MX domain or smart-host list), over every deliver invocation. */
  maxPerDomainOutboundConnections: count("connections").optional(),
  /** Messages one SMTP connection carries before it is closed. */
  smtpMaxMessagesPerConnection: count("messages").optional(),
  /** Messages per minute to one next hop (Postfix's rate delay, SES's send rate); unset: no limit. */
  maxMessagesPerMinute: count("messages").optional(),
};

/** Organisation-wide defaults and the rules for throttle replies and dead hosts. */
export const TRANSPORT_NEXT_HOP_LIMITS = {
  /** Exchange's default: 20 connections per destination domain. */
  maxPerDomainOutboundConnections: count("connections").default(20),
  /** Exchange's default: 20 messages per connection. */
  smtpMaxMessagesPerConnection: count("messages").default(20),
  maxMessagesPerMinute: count("messages").optional(),
  /**
   * Replies that mean "you are sending too fast", beside the built-in ones (4.7.28, 4.7.500,
   * TSS04, 421/451 4.7.x "rate"/"try later"): a next hop that answers one is backed off as a whole.
   */
  throttleReplyPatterns: z.array(replyPattern).default([]),
  /** The first backoff after a throttle reply; each further one within the ramp doubles it. */
  throttleBackoffSeconds: count("seconds").default(60),
  throttleBackoffMaxSeconds: count("seconds").default(900),
  /** After a backoff, this long at half the connections before the full limit is back. */
  throttleRampSeconds: count("seconds").default(300),
  /** Connection failures or time-outs in a row, within the window, that open a host's circuit. */
  circuitBreakerThreshold: count("failures").default(3),
  circuitBreakerWindowSeconds: count("seconds").default(300),
  /** How long a circuit first stays open; each reopening after a failed probe doubles it, to the max. */
  circuitBreakerOpenSeconds: count("seconds").default(60),
  circuitBreakerMaxOpenSeconds: count("seconds").default(900),
};
