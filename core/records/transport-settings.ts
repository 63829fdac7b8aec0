// Schema of the organisation-wide transport settings record: retry, expiry and notification timing.
import { z } from "zod";
import { isIpv4, isIpv6, recordMeta } from "./common.ts";

/**
 * Defaults follow Exchange's transport service: quick retries first (1 min × 4, then 5 min × 6),
 * then every 15 minutes; a delay DSN after 4 hours; expiry with an NDR after 2 days.
 */
export const TransportSettingsSchema = z.strictObject({
  kind: z.literal("TransportSettings"),
  name: z.literal("default").default("default"),
  /** Retry intervals in seconds, each used `count` times in order; the last repeats until expiry. */
  retrySchedule: z
    .array(
      z.strictObject({
        intervalSeconds: z.number().int().positive(),
        count: z.number().int().positive(),
      }),
    )
    .min(1)
    .default([
      { intervalSeconds: 60, count: 4 },
      { intervalSeconds: 300, count: 6 },
      { intervalSeconds: 900, count: 1 },
    ]),
  messageExpirationTimeoutSeconds: z
    .number()
    .int()
    .positive()
    .default(2 * 24 * 3600),
  /** 0 turns delay notifications off. */
  delayNotificationTimeoutSeconds: z
    .number()
    .int()
    .min(0)
    .default(4 * 3600),
  /** Host name used in EHLO, Received headers and NDRs when a connector names none. */
  hostName: z.string().trim().min(1).optional(),
  /** Postmaster address NDRs are sent from (in the From header; the envelope sender is <>). */
  postmaster: z.string().trim().optional(),
  /**
   * Public addresses this relay's mail leaves from (local mode; in AWS the stack's EgressIp
   * outputs). Nothing routes by them: `relay doctor` checks their PTR and the SPF records for them.
   */
  egressIps: z
    .array(
      z
        .string()
        .trim()
        .refine((v) => isIpv4(v) || isIpv6(v), {
          message: 'not an IP address; use "203.0.113.5" or "2001:db8::5"',
        }),
    )
    .default([]),
  ...recordMeta,
});
export type TransportSettings = z.infer<typeof TransportSettingsSchema>;

export const DEFAULT_TRANSPORT_SETTINGS: TransportSettings = TransportSettingsSchema.parse({
  kind: "TransportSettings",
});
