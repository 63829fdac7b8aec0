// Settings of the listener process (not records): host name, TLS material, trusted balancers, limits.
import { z } from "zod";
import { isRemoteIpRange } from "#core/net/ip-range.ts";

export const ListenerConfigSchema = z.strictObject({
  /** Host name in greetings and Received headers when a connector names no fqdn. */
  hostName: z.string().trim().min(1),
  /** PEM certificate chain and key for STARTTLS and implicit TLS; without them TLS is not offered. */
  tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
  /**
   * Load balancers allowed to send a PROXY protocol header (v1 or v2): addresses or ranges as in
   * RemoteIPRanges. A connection from one of them must start with a header; its own address is never
   * used to choose a connector, so the balancer cannot earn relay rights.
   */
  trustedProxies: z
    .array(z.string().trim().refine(isRemoteIpRange, { message: "not an IP address or range" }))
    .default([]),
  /** Port of the HTTP health endpoint for the load balancer and ECS; 0 picks a free one, absent: none. */
  healthPort: z.number().int().min(0).max(65535).optional(),
  healthHost: z.string().default("0.0.0.0"),
  /**
   * Bodies up to this many bytes travel inline in the queue message, larger ones go to the message
   * store. SQS caps a message at 1 MiB and base64 grows the body by 4/3, so 192 KiB leaves room.
   */
  inlineBodyLimit: z
    .number()
    .int()
    .min(0)
    .default(192 * 1024),
  /** After SIGTERM, how long sessions may run on before the rest are answered 421. */
  shutdownDeadlineMs: z.number().int().min(0).default(25_000),
  /** How often records are re-read (the record cache's TTL decides whether a read hits the store). */
  reloadIntervalMs: z.number().int().positive().default(5_000),
  /**
   * How often the certificate and partner CA bundles are re-read (ListenerDeps.tlsSource), so a
   * renewed certificate reaches new sessions without a restart. Each read of a secret costs an API
   * call in AWS, hence minutes there; local files are cheap to re-read.
   */
  tlsReloadIntervalMs: z.number().int().positive().default(300_000),
  /** How long a trusted balancer may take to send its PROXY header before the socket is dropped. */
  proxyHeaderTimeoutMs: z.number().int().positive().default(5_000),
  /**
   * The port actually bound for a port a connector declares, e.g. { "25": 2525 } for an unprivileged
   * user, or { "25": 0 } in tests to get a free port; `addresses()` reports what was bound.
   */
  bindPorts: z.record(z.string(), z.number().int().min(0).max(65535)).default({}),
});

export type ListenerConfig = z.infer<typeof ListenerConfigSchema>;
export type ListenerConfigInput = z.input<typeof ListenerConfigSchema>;

export function parseListenerConfig(input: ListenerConfigInput): ListenerConfig {
  return ListenerConfigSchema.parse(input);
}
