// Schema of the organisation-wide transport settings record: retry, expiry and notification timing.
import { z } from "zod";
import { recordMeta } from "./common.ts";

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
  /*
   * AUTH lockout, named after Active Directory's account lockout policy (LockoutThreshold,
   * LockoutObservationWindow, LockoutDuration), applied per client address and per user name.
   * A threshold of 0 turns that lockout off.
   */
  /** Failed AUTH from one address (IPv6: one /64) within the window that lock the address out. */
  lockoutThresholdPerIp: z.number().int().min(0).default(10),
  lockoutObservationWindowPerIpSeconds: z.number().int().positive().default(600),
  /** Failed AUTH for one user name, from any address, within the window that lock the name out. */
  lockoutThresholdPerUser: z.number().int().min(0).default(20),
  lockoutObservationWindowPerUserSeconds: z.number().int().positive().default(3600),
  /** How long every AUTH of a locked address or name gets 454 4.7.0, whatever the password. */
  lockoutDurationSeconds: z.number().int().positive().default(900),
  /**
   * After a lockout, for this long one more failure locks again at once (fail2ban's "recidive"):
   * a guesser gets one try per lockout instead of a fresh threshold. 0: off.
   */
  lockoutRepeatWindowSeconds: z
    .number()
    .int()
    .min(0)
    .default(24 * 3600),
  ...recordMeta,
});
export type TransportSettings = z.infer<typeof TransportSettingsSchema>;

export const DEFAULT_TRANSPORT_SETTINGS: TransportSettings = TransportSettingsSchema.parse({
  kind: "TransportSettings",
});
