// Schema of a send connector record: where mail for which domains goes, and how.
import { z } from "zod";
import {
  DOMAIN_PATTERN_FIX,
  domainPattern,
  hostPort,
  ipPort,
  MB,
  port,
  protocolLogging,
  recordMeta,
} from "./common.ts";
import { CONNECTOR_NEXT_HOP_LIMITS } from "./next-hop-limits.ts";

export const SEND_CONNECTOR_USAGES = ["Internal", "Internet", "Partner", "Custom"] as const;
export type SendConnectorUsage = (typeof SEND_CONNECTOR_USAGES)[number];

/**
 * Default maximum message size per usage type: Exchange sets 35 MB on Internet, Partner and
 * Custom connectors and no limit on Internal ones ("Send connectors in Exchange Server").
 */
export const DEFAULT_SEND_MAX_MESSAGE_SIZE: Record<SendConnectorUsage, number | undefined> = {
  Internal: undefined,
  Internet: 35 * MB,
  Partner: 35 * MB,
  Custom: 35 * MB,
};

/** `smtp:contoso.com;1` in Exchange; here `{ domain: "contoso.com", cost: 1 }`. */
export const AddressSpaceSchema = z.strictObject({
  domain: domainPattern,
  cost: z.number().int().min(1).max(100).default(1),
});
export type AddressSpace = z.infer<typeof AddressSpaceSchema>;

/**
 * A sender address space for sender-based routing: `*`, `contoso.com`, `*.contoso.com` or one
 * address `user@contoso.com`.
 */
export const senderPattern = z
  .string()
  .trim()
  .toLowerCase()
  .refine(
    (v) => {
      const at = v.lastIndexOf("@");
      if (at < 0) return domainPattern.safeParse(v).success;
      return (
        at > 0 &&
        !v.slice(0, at).includes("@") &&
        domainPattern.safeParse(v.slice(at + 1)).success &&
        !v.slice(at + 1).startsWith("*")
      );
    },
    {
      message: `not a sender pattern; use an address "user@contoso.com" or a domain (${DOMAIN_PATTERN_FIX})`,
    },
  );

export const SendConnectorSchema = z.strictObject({
  kind: z.literal("SendConnector"),
  name: z.string().trim().min(1).max(64),
  enabled: z.boolean().default(true),
  usage: z.enum(SEND_CONNECTOR_USAGES).default("Custom"),
  addressSpaces: z
    .array(AddressSpaceSchema)
    .min(1, { message: 'needs at least one address space, e.g. { "domain": "*", "cost": 1 }' }),
  /** True: deliver by MX lookup of the recipient domain. False: through `smartHosts`. */
  dnsRoutingEnabled: z.boolean().default(true),
  smartHosts: z.array(hostPort).default([]),
  /** Destination port for MX hosts and for smart hosts that do not name their own. */
  port: port.default(25),
  /** DNS servers for MX lookups ("use the external DNS lookup settings"); empty: the system's. */
  externalDnsServers: z.array(ipPort).default([]),
  /** Name sent in EHLO; the relay's own host name when absent. */
  fqdn: z.string().trim().min(1).optional(),
  requireTls: z.boolean().default(false),
  tlsAuthLevel: z.enum(["EncryptionOnly", "CertificateValidation", "DomainValidation"]).optional(),
  /** Domain the remote certificate must match with DomainValidation. */
  tlsDomain: z.string().trim().toLowerCase().optional(),
  /**
   * MX delivery honours the recipient domain's MTA-STS policy when one is published (RFC 8461);
   * smart hosts keep the connector's own TLS settings.
   */
  mtaStsEnabled: z.boolean().default(true),
  /** MX delivery uses DANE (RFC 7672) when the TLSA records of the MX host are DNSSEC-authenticated. */
  daneEnabled: z.boolean().default(true),
  /**
   * The resolver this connector uses (externalDnsServers, else the system's) validates DNSSEC and
   * sets the AD bit truthfully (Route 53 Resolver with DNSSEC validation, a local unbound). Without
   * it no answer counts as authenticated, so DANE never applies.
   */
  dnssecValidatingResolver: z.boolean().default(false),
  smartHostAuthMechanism: z.enum(["None", "BasicAuth", "BasicAuthRequireTls"]).default("None"),
  /** Name of the secret holding `{"username": "...", "password": "..."}` for smart host auth. */
  smartHostAuthSecret: z.string().trim().min(1).optional(),
  /** Bytes; absent means the default of the usage type (35 MB, or unlimited for Internal). */
  maxMessageSize: z.number().int().positive().optional(),
  /** Scoping: names of receive connectors whose mail may use this connector; empty: all. */
  sourceListeners: z.array(z.string().trim().min(1)).default([]),
  /** Sender-based routing: only mail from these senders uses this connector; empty: any sender. */
  senderAddressSpaces: z.array(senderPattern).default([]),
  /**
   * Check and feed the suppression list (TransportSettings.suppression*). Off for connectors whose
   * next hop is not the mailbox's own server, e.g. an internal smart host that answers for others.
   */
  suppressionEnabled: z.boolean().default(true),
  protocolLogging,
  ...CONNECTOR_NEXT_HOP_LIMITS,
  comment: z.string().optional(),
  ...recordMeta,
});
export type SendConnector = z.infer<typeof SendConnectorSchema>;
export type SendConnectorInput = z.input<typeof SendConnectorSchema>;

/** The effective size limit in bytes, or undefined for no limit. */
export function sendConnectorMaxSize(c: SendConnector): number | undefined {
  return c.maxMessageSize ?? DEFAULT_SEND_MAX_MESSAGE_SIZE[c.usage];
}
