// Schema of the organisation-wide transport settings record: retry, expiry, notification timing and log retention.
import { z } from "zod";
import { isIpv4, isIpv6, recordMeta } from "./common.ts";
import { suppressionAndEventSettings } from "./delivery-feedback.ts";
import { TRANSPORT_NEXT_HOP_LIMITS } from "./next-hop-limits.ts";

/**
 * Defaults follow Exchange's transport service: quick retries first (1 min × 4, then 5 min × 6),
 * then every 15 minutes; a delay DSN after 4 hours; expiry with an NDR after 2 days.
 */
export const TransportSettingsSchema = z
  .strictObject({
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
     * Days the tracking rows and events of finished messages are kept (Exchange's
     * MessageTrackingLogMaxAge). Unset: 30 locally; in AWS the stack's retention.trackingDays (30).
     */
    messageTrackingLogMaxAgeDays: z.number().positive().optional(),
    // Protocol logs (local mode; in AWS they are CloudWatch Logs with the stack's retention.logDays).
    // Exchange's Set-TransportService defaults: 30 days, 250 MB per directory, 10 MB per file. A
    // file is closed at the file size; files go by age and, oldest first, beyond the directory size.
    receiveProtocolLogMaxAgeDays: z.number().positive().default(30),
    receiveProtocolLogMaxDirectorySizeMb: z.number().positive().default(250),
    receiveProtocolLogMaxFileSizeMb: z.number().positive().default(10),
    sendProtocolLogMaxAgeDays: z.number().positive().default(30),
    sendProtocolLogMaxDirectorySizeMb: z.number().positive().default(250),
    sendProtocolLogMaxFileSizeMb: z.number().positive().default(10),
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
    /** Limits per next hop, throttle replies and the circuit breaker (see next-hop-limits.ts). */
    ...TRANSPORT_NEXT_HOP_LIMITS,
    ...suppressionAndEventSettings,
    ...recordMeta,
  })
  .superRefine((s, ctx) => {
    // Exchange refuses a MaxFileSize above MaxDirectorySize: one file would overflow the directory.
    for (const log of ["receive", "send"] as const) {
      if (s[`${log}ProtocolLogMaxFileSizeMb`] > s[`${log}ProtocolLogMaxDirectorySizeMb`])
        ctx.addIssue({
          code: "custom",
          path: [`${log}ProtocolLogMaxFileSizeMb`],
          message: `must not exceed ${log}ProtocolLogMaxDirectorySizeMb (${s[`${log}ProtocolLogMaxDirectorySizeMb`]})`,
        });
    }
  });
export type TransportSettings = z.infer<typeof TransportSettingsSchema>;

export const DEFAULT_TRANSPORT_SETTINGS: TransportSettings = TransportSettingsSchema.parse({
  kind: "TransportSettings",
});
