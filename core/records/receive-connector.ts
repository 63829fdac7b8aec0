// Schema of a receive connector record: who may connect where, and what they may do.
import { z } from "zod";
import { isRemoteIpRange } from "../net/ip-range.ts";
import { domainPattern, ipPort, MB, protocolLogging, recordMeta } from "./common.ts";

export const PERMISSION_GROUPS = ["AnonymousUsers", "Users", "Partners"] as const;
export type PermissionGroup = (typeof PERMISSION_GROUPS)[number];

/** The Exchange extended rights this relay models (ms-Exch-SMTP-… without the prefix). */
export const PERMISSIONS = [
  "Submit",
  "AcceptAnyRecipient",
  "AcceptAnySender",
  "AcceptAuthoritativeDomainSender",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Exchange's MessageRateSource: whose messages MessageRateLimit counts. */
export const MESSAGE_RATE_SOURCES = ["IPAddress", "User", "All"] as const;
export type MessageRateSource = (typeof MESSAGE_RATE_SOURCES)[number];

export const AUTH_MECHANISMS = ["None", "Tls", "BasicAuth", "BasicAuthRequireTls"] as const;
export type AuthMechanism = (typeof AUTH_MECHANISMS)[number];

/** Exchange's default RemoteIPRanges: every IPv4 and every IPv6 address. */
export const ALL_REMOTE_IP_RANGES = [
  "0.0.0.0-255.255.255.255",
  "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
];

export const grantPattern = z.string().refine(
  (v) => {
    const [group, perm, ...rest] = v.split(":");
    return (
      rest.length === 0 &&
      PERMISSION_GROUPS.includes(group as PermissionGroup) &&
      PERMISSIONS.includes(perm as Permission)
    );
  },
  {
    message: `not a grant; use "Group:Permission" with a group of ${PERMISSION_GROUPS.join("/")} and a permission of ${PERMISSIONS.join("/")}, e.g. "AnonymousUsers:AcceptAnyRecipient"`,
  },
);

export const ReceiveConnectorSchema = z.strictObject({
  kind: z.literal("ReceiveConnector"),
  name: z.string().trim().min(1).max(64),
  enabled: z.boolean().default(true),
  /** Local `ip:port` pairs the listener binds: "0.0.0.0:25", "[::]:587", "10.0.0.4:25". */
  bindings: z
    .array(
      ipPort.refine((v) => /:\d+$/.test(v), {
        message: 'a binding needs a port, e.g. "0.0.0.0:25"',
      }),
    )
    .min(1, { message: 'needs at least one binding, e.g. "0.0.0.0:25"' }),
  /** Remote addresses this connector serves: "10.0.0.5", "10.0.0.0/24", "10.0.0.1-10.0.0.9", IPv4 or IPv6. */
  remoteIpRanges: z
    .array(
      z.string().trim().refine(isRemoteIpRange, {
        message:
          'not an IP range; use "192.168.1.75", "192.168.1.0/24", "192.168.1.10-192.168.1.20" or the IPv6 forms',
      }),
    )
    .min(1)
    .default(ALL_REMOTE_IP_RANGES),
  authMechanisms: z.array(z.enum(AUTH_MECHANISMS)).default(["Tls", "BasicAuthRequireTls"]),
  permissionGroups: z.array(z.enum(PERMISSION_GROUPS)).default(["AnonymousUsers"]),
  /** Extra rights beyond the groups' defaults, "Group:Permission" — Exchange's Add-ADPermission. */
  grantedPermissions: z.array(grantPattern).default([]),
  requireTls: z.boolean().default(false),
  /**
   * Domains whose servers earn Partners rights with a client certificate (Exchange's domain
   * security, TLSReceiveDomainSecureList): "fabrikam.com" or "*.fabrikam.com". With them the
   * connector asks for a client certificate after STARTTLS or on implicit TLS.
   */
  partnerDomains: z
    .array(
      domainPattern.refine((d) => d !== "*", {
        message:
          '"*" would make any certificate from the CA a partner; use "fabrikam.com" or "*.fabrikam.com"',
      }),
    )
    .default([]),
  /**
   * The CA certificates (PEM) a partner's client certificate must chain to: a file locally (relative
   * to the relay's tls directory, or absolute), the secret `<prefix>tls/<name>` in AWS.
   */
  tlsClientCaBundle: z.string().trim().min(1).max(1024).optional(),
  /** Port 465 style: TLS from the first byte instead of STARTTLS. */
  implicitTls: z.boolean().default(false),
  /** Text after "220 " in the greeting; "<fqdn> connector-relay ESMTP ready" when absent. */
  banner: z.string().max(200).optional(),
  /** Host name the connector announces in its greeting and Received headers. */
  fqdn: z.string().trim().min(1).optional(),
  maxMessageSize: z
    .number()
    .int()
    .positive()
    .default(36 * MB),
  maxRecipientsPerMessage: z.number().int().positive().default(200),
  maxProtocolErrors: z.number().int().positive().default(5),
  maxInboundConnection: z.number().int().positive().default(5000),
  maxInboundConnectionPerSource: z.number().int().positive().default(20),
  maxHopCount: z.number().int().positive().default(60),
  /**
   * Exchange's MessageRateLimit: messages per minute one client may submit through this connector;
   * absent is Exchange's Unlimited. Over it: 421 4.4.2 and the connection closes.
   */
  messageRateLimit: z.number().int().positive().optional(),
  /** Who is counted: the client's IP address, the authenticated user, or both ("All"). */
  messageRateSource: z.enum(MESSAGE_RATE_SOURCES).default("IPAddress"),
  /** Seconds to wait before answering a failed AUTH or a rejected command. */
  tarpitInterval: z.number().min(0).max(600).default(5),
  /** Seconds before the 220 greeting; a client that talks first is dropped. 0 for submission. */
  greetingDelay: z.number().min(0).max(60).default(0),
  /** Seconds a session may last, and may stay idle, before it is closed. */
  connectionTimeout: z.number().positive().default(600),
  connectionInactivityTimeout: z.number().positive().default(300),
  protocolLogging,
  comment: z.string().optional(),
  ...recordMeta,
});
export type ReceiveConnector = z.infer<typeof ReceiveConnectorSchema>;
export type ReceiveConnectorInput = z.input<typeof ReceiveConnectorSchema>;

export { ipPort };
