// Get-SendConnector objects as SendConnector records: address spaces and cost, MX or smart hosts, TLS, size, logging.
import { smartHostSecretName } from "../commands/record-specs.ts";
import {
  AUTH_MECHANISMS,
  type MappedItem,
  nameOf,
  PropertyReader,
  setIf,
  type Unmapped,
} from "./model.ts";
import { addressSpace, type ExchangeAddressSpace, smartHost } from "./network-values.ts";
import { bool, enumName, flags, list, size, text, UNLIMITED } from "./values.ts";

/** Transport-wide values a send connector depends on (from --transport-config). */
export interface SendContext {
  /** Get-TransportService ExternalDNSServers; undefined when no transport file was given. */
  externalDnsServers?: string[];
}

const UNMAPPED: Record<string, Unmapped> = {
  SourceTransportServers: {
    reason:
      "every delivery worker of this relay sends for every connector; mail leaves from this host (local) or the NAT gateways' Elastic IPs (AWS): update SPF and smart-host allow lists for those addresses (relay doctor lists them)",
  },
  SourceIPAddress: {
    reason: "the source address is this host's or the NAT gateways'; see relay doctor",
    ignore: (v) => v === "0.0.0.0",
  },
  IsScopedConnector: {
    reason:
      "Active Directory sites do not exist here; the connector serves all mail (scope by receive connector with --source-listeners)",
  },
  FrontendProxyEnabled: {
    reason: "mail is sent directly by the delivery workers; there is no front end to proxy through",
  },
  ForceHELO: { reason: "EHLO is always tried first and HELO used when the server refuses it" },
  IgnoreSTARTTLS: { reason: "STARTTLS is always used when offered" },
  DomainSecureEnabled: {
    reason:
      "mutual TLS to partners: use requireTls with tlsAuthLevel DomainValidation and tlsDomain",
  },
  TlsCertificateName: { reason: "this relay presents no client certificate when sending" },
  ErrorPolicies: {
    reason: "bounce classification follows the reply codes",
    ignore: (v) => v === "Default" || v === 0,
  },
  CloudServicesMailEnabled: {
    reason:
      "hybrid (Exchange Online) header preservation is not supported; mail to Exchange Online is ordinary SMTP here",
  },
  ConnectorType: {
    reason: "hybrid (XPremises) connectors are treated as ordinary ones",
    ignore: (v) => v === "Default" || v === 0,
  },
  RequireOorg: { reason: "not modelled" },
  SmtpMaxMessagesPerConnection: {
    reason: "connection reuse is the relay's own setting (20 messages per connection)",
    ignore: (v) => v === 20 || v === "20",
  },
  ConnectionInactivityTimeOut: {
    reason: "the relay's SMTP client timeouts apply",
    ignore: () => true,
  },
  UseExternalDNSServersEnabled: { reason: "", ignore: () => true },
};

/** An SMTP address space as this relay writes one; undefined for the EdgeSync "--" and non-SMTP types. */
function domainOf(
  r: PropertyReader,
  a: ExchangeAddressSpace,
): { domain: string; cost: number } | undefined {
  if (a.type !== "SMTP") {
    r.note(
      "AddressSpaces",
      `${a.type}:${a.domain} is not an SMTP address space; only SMTP routes here`,
    );
    return undefined;
  }
  if (a.domain === "--") return undefined;
  if (a.cost < 1 || a.cost > 100) {
    r.note("AddressSpaces", `cost ${a.cost} of ${a.domain} is outside 1-100; 100 applies`);
    return { domain: a.domain, cost: 100 };
  }
  return { domain: a.domain, cost: a.cost };
}

export function mapSendConnector(
  object: Record<string, unknown>,
  source: string,
  ctx: SendContext,
): MappedItem {
  const r = new PropertyReader(object);
  const name = nameOf(r) ?? "";
  const item: MappedItem = { kind: "SendConnector", id: name, source, notes: r.notes };
  if (name === "") return { ...item, skip: "no Name or Identity" };
  const spaces = r.read("AddressSpaces", (v) => list(v).map(addressSpace)) ?? [];
  if (spaces.some((a) => a.domain === "--"))
    return {
      ...item,
      skip: "an Edge subscription's inbound connector (\"--\" is the organisation's accepted domains): this relay delivers accepted domains by its own send connectors; add one for them with relay send-connector new",
    };
  const linked = r.read("LinkedReceiveConnector", text);
  const addressSpaces = spaces.map((a) => domainOf(r, a)).filter((a) => a !== undefined);
  if (addressSpaces.length === 0)
    return {
      ...item,
      skip: linked
        ? `linked to receive connector ${linked}: linked connectors are not supported; route by address space, and scope with --source-listeners`
        : "no SMTP address space: it would never be chosen",
    };
  if (linked)
    r.note(
      "LinkedReceiveConnector",
      "linked connectors are not supported; the connector routes by its address spaces (scope with --source-listeners)",
    );

  const record: Record<string, unknown> = { kind: "SendConnector", name, addressSpaces };
  setIf(record, "enabled", r.read("Enabled", bool));
  setIf(record, "comment", r.read("Comment", text) || undefined);
  const hosts = r.read("SmartHosts", (v) => list(v).map(smartHost)) ?? [];
  const dns = r.read("DNSRoutingEnabled", bool) ?? hosts.length === 0;
  record.dnsRoutingEnabled = dns;
  if (!dns) record.smartHosts = hosts;
  else if (hosts.length > 0)
    r.note(
      "SmartHosts",
      "listed while DNSRoutingEnabled is true, so Exchange ignored them; not imported",
    );
  setIf(
    record,
    "port",
    r.read("Port", (v) => (typeof v === "number" ? v : Number(text(v)))),
  );
  setIf(record, "fqdn", r.read("Fqdn", text) || undefined);
  setIf(record, "requireTls", r.read("RequireTLS", bool));
  const level = r.read("TlsAuthLevel", (v) =>
    typeof v === "number"
      ? flags(v, ["EncryptionOnly", "CertificateValidation", "DomainValidation"])[0]
      : enumName(v, ["EncryptionOnly", "CertificateValidation", "DomainValidation"]),
  );
  if (level && record.requireTls === true) record.tlsAuthLevel = level;
  else if (level) r.note("TlsAuthLevel", "applies only with RequireTLS; not imported");
  const tlsDomain = r.read("TlsDomain", text);
  if (tlsDomain && level === "DomainValidation") record.tlsDomain = tlsDomain;

  const auth = r.read("SmartHostAuthMechanism", (v) => flags(v, AUTH_MECHANISMS)) ?? [];
  const basic = auth.includes("BasicAuthRequireTLS")
    ? "BasicAuthRequireTls"
    : auth.includes("BasicAuth")
      ? "BasicAuth"
      : undefined;
  if (basic && !dns) {
    // The credentials are not in the export (a PSCredential's password never is): the record names
    // the secret `relay send-connector set --auth-user` writes, so delivery defers until it exists.
    record.smartHostAuthMechanism = basic;
    record.smartHostAuthSecret = smartHostSecretName(name);
    const user = r.read("AuthenticationCredential", text);
    r.note(
      "AuthenticationCredential",
      `the password is not exported: run relay send-connector set --name "${name}" --auth-user ${user ?? "USER"} (until then delivery through this connector is deferred)`,
    );
  } else if (auth.includes("ExchangeServer") || auth.includes("ExternalAuthoritative"))
    r.note(
      "SmartHostAuthMechanism",
      `${auth.join(", ")} is between Exchange servers only; smart hosts are reached without AUTH`,
    );

  const max = r.read("MaxMessageSize", size);
  // Exchange's Internal usage has no size limit: that is how Unlimited is written here.
  if (max === UNLIMITED) record.usage = "Internal";
  else if (max !== undefined) record.maxMessageSize = max;
  if (r.read("UseExternalDNSServersEnabled", bool) === true) {
    if (!dns)
      r.note(
        "UseExternalDNSServersEnabled",
        "applies to MX lookups only; the connector uses smart hosts",
      );
    else if (ctx.externalDnsServers?.length) record.externalDnsServers = ctx.externalDnsServers;
    else
      r.note(
        "UseExternalDNSServersEnabled",
        ctx.externalDnsServers === undefined
          ? "the servers are Get-TransportService's ExternalDNSServers: give --transport-config, or set --dns-servers on the connector"
          : "Get-TransportService lists no ExternalDNSServers (Exchange used the adapter's); the system's resolver applies",
      );
  }
  setIf(
    record,
    "protocolLogging",
    r.read("ProtocolLoggingLevel", (v) => enumName(v, ["None", "Verbose"])),
  );
  if (/^EdgeSync - /i.test(name))
    r.note(
      "Name",
      "created by an Edge subscription; EdgeSync no longer maintains it once imported",
    );
  r.unmapped(UNMAPPED);
  return { ...item, record };
}
