// TransportSettings fields of the suppression list and delivery events (kept apart so the settings schema stays one screen).
import { z } from "zod";

/**
 * Enhanced codes (RFC 3463) that say the address itself is bad, the hard bounces SES puts on its
 * suppression list: 5.1.1 bad mailbox, 5.1.2 bad destination system, 5.1.3 bad address syntax,
 * 5.1.6 mailbox moved, 5.1.10 recipient not found (Microsoft 365, RFC 7505's null MX), 5.2.1
 * mailbox disabled, and 5.4.1, Exchange Online's "Recipient address rejected: Access denied"
 * for addresses its directory does not have. Not 5.2.2 (full: the mailbox exists) nor 5.7.x
 * (policy or reputation: about the sender, not the address).
 */
export const DEFAULT_SUPPRESSION_CODES = [
  "5.1.1",
  "5.1.2",
  "5.1.3",
  "5.1.6",
  "5.1.10",
  "5.2.1",
  "5.4.1",
];

const enhancedCode = z
  .string()
  .trim()
  .regex(/^5\.\d{1,3}\.\d{1,3}$/, { message: 'not a permanent enhanced code; use e.g. "5.1.1"' });

const webhookUrl = z
  .string()
  .trim()
  .refine(
    (v) => {
      try {
        return ["http:", "https:"].includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: 'not an http(s) URL; use e.g. "https://hooks.contoso.com/relay"' },
  );

export const suppressionAndEventSettings = {
  suppressionEnhancedCodes: z.array(enhancedCode).default(DEFAULT_SUPPRESSION_CODES),
  /**
   * How long a hard-bounced address stays suppressed. 14 days, SES's old global list: long enough
   * that a bulk sender stops hammering a dead mailbox (the reputation damage), short enough that a
   * receiving server's bad hour does not silence real users for good. 0: bounces suppress nothing.
   */
  suppressionDurationSeconds: z
    .number()
    .int()
    .min(0)
    .default(14 * 24 * 3600),
  /** A deferred event goes out on a recipient's first deferral, then on every Nth attempt. */
  deferredEventEvery: z.number().int().positive().default(5),
  /**
   * Local mode: where delivery events are POSTed, each signed with HMAC-SHA256 over the body by
   * the secret named `secret` (a name in the secret store, never the secret itself). In AWS the
   * events go to the stack's EventBridge bus instead.
   */
  eventWebhooks: z
    .array(
      z.strictObject({
        url: webhookUrl,
        secret: z.string().trim().min(1),
      }),
    )
    .default([]),
};
