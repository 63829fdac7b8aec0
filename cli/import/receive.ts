// Get-ReceiveConnector objects as ReceiveConnector records: bindings, ranges, auth, permission groups, limits.
import type { AuthMechanism, PermissionGroup } from "#core/records/receive-connector.ts";
import {
  AUTH_MECHANISMS,
  type MappedItem,
  nameOf,
  PropertyReader,
  setIf,
  type Unmapped,
} from "./model.ts";
import { binding, ipRange } from "./network-values.ts";
import {
  bool,
  enumName,
  flags,
  isObject,
  type Limit,
  limit,
  list,
  prop,
  size,
  text,
  timespan,
  UNLIMITED,
} from "./values.ts";

/** Exchange's PermissionGroups flags in declaration order (AnonymousUsers = 1, ...). */
const GROUPS = [
  "AnonymousUsers",
  "ExchangeUsers",
  "ExchangeServers",
  "ExchangeLegacyServers",
  "Partners",
  "Custom",
];

const USERS_ACTION =
  "create an SMTP user per client with relay user new, and have the clients AUTH with LOGIN or PLAIN over TLS";

/** The rights Add-ADPermission grants on a receive connector, as this relay names them. */
const EXTENDED_RIGHTS: Record<string, string> = {
  "ms-exch-smtp-submit": "Submit",
  "ms-exch-smtp-accept-any-recipient": "AcceptAnyRecipient",
  "ms-exch-smtp-accept-any-sender": "AcceptAnySender",
  "ms-exch-smtp-accept-authoritative-domain-sender": "AcceptAuthoritativeDomainSender",
};
const PRINCIPALS: Record<string, PermissionGroup> = {
  "nt authority\\anonymous logon": "AnonymousUsers",
  "nt authority\\authenticated users": "Users",
};

const UNMAPPED: Record<string, Unmapped> = {
  MaxInboundConnectionPercentagePerSource: {
    reason: "not modelled; maxInboundConnectionPerSource limits one source",
    ignore: (v) => v === 2 || v === "2",
  },
  MaxLocalHopCount: {
    reason: "this relay has no internal hops; only maxHopCount applies",
    ignore: () => true,
  },
  MaxHeaderSize: {
    reason: "not modelled; the message size limit covers the header",
    ignore: (v) => String(v).includes("262,144") || v === 262144,
  },
  MaxLogonFailures: {
    reason:
      "AUTH lockout is organisation-wide here: relay transport-config set --lockout-threshold-per-ip",
    ignore: (v) => v === 3 || v === "3",
  },
  AuthTarpitInterval: {
    reason: "the connector's tarpitInterval applies to failed AUTH as well",
    ignore: () => true,
  },
  DomainSecureEnabled: {
    reason:
      "domain security is the Partners group with partnerDomains and tlsClientCaBundle; set them with relay receive-connector set",
  },
  TlsCertificateName: {
    reason:
      "the listener presents this relay's own certificate (RELAY_HOME/tls locally, the tls secret in AWS)",
  },
  TlsDomainCapabilities: { reason: "Exchange Online and hybrid capabilities do not apply" },
  EnableAuthGSSAPI: { reason: `Kerberos/NTLM is not offered; ${USERS_ACTION}` },
  ExtendedProtectionPolicy: {
    reason: "applies to Windows authentication only",
    ignore: (v) => v === "None" || v === 0,
  },
  LongAddressesEnabled: { reason: "X.400 addresses are not supported" },
  OrarEnabled: { reason: "ORAR is not supported" },
  SuppressXAnonymousTls: { reason: "X-ANONYMOUSTLS is Exchange-to-Exchange only" },
  EnhancedStatusCodesEnabled: {
    reason: "enhanced status codes are always on",
    ignore: (v) => v === true,
  },
  SizeEnabled: { reason: "SIZE is always advertised", ignore: (v) => v === "Enabled" || v === 1 },
  ServiceDiscoveryFqdn: { reason: "not used" },
  DefaultDomain: { reason: "unqualified recipients are refused here" },
  AdvertiseClientSettings: { reason: "Outlook on the web is not part of this relay" },
  RejectReservedTopLevelRecipientDomains: { reason: "not modelled" },
  RejectReservedSecondLevelRecipientDomains: { reason: "not modelled" },
  RejectSingleLabelRecipientDomains: { reason: "single-label domains are refused always" },
};

function grantsFromAdPermissions(r: PropertyReader): string[] {
  const grants: string[] = [];
  for (const entry of list(r.raw("ADPermissions"))) {
    if (!isObject(entry)) continue;
    const user = (text(prop(entry, "User")) ?? "").toLowerCase();
    const deny = prop(entry, "Deny") === true || prop(entry, "Deny") === "True";
    const rights = list(prop(entry, "ExtendedRights"), { split: true }).map((x) =>
      (text(isObject(x) ? (prop(x, "RawIdentity") ?? x) : x) ?? "").toLowerCase(),
    );
    for (const right of rights) {
      const perm = EXTENDED_RIGHTS[right];
      if (!perm) continue;
      const group = PRINCIPALS[user];
      if (!group || deny) {
        r.note(
          "ADPermissions",
          `${deny ? "deny of" : "grant to"} ${user || "an unnamed principal"} (${right}) has no counterpart; rights are granted to AnonymousUsers, Users or Partners here`,
        );
        continue;
      }
      grants.push(`${group}:${perm}`);
    }
  }
  return grants;
}

const whole = (
  r: PropertyReader,
  property: string,
  v: Limit | undefined,
  unlimitedNote: string,
) => {
  if (v === UNLIMITED) {
    r.note(property, unlimitedNote);
    return undefined;
  }
  return v === 0 ? undefined : v;
};

export function mapReceiveConnector(object: Record<string, unknown>, source: string): MappedItem {
  const r = new PropertyReader(object);
  const name = nameOf(r) ?? "";
  const item: MappedItem = { kind: "ReceiveConnector", id: name, source, notes: r.notes };
  if (name === "") return { ...item, skip: "no Name or Identity" };
  const role = r.read("TransportRole", text);
  if (role && /hub/i.test(role))
    return {
      ...item,
      skip: "a HubTransport (back end) connector: it receives only from Exchange's own Front End Transport; the FrontendTransport connectors carry what clients use",
    };
  const record: Record<string, unknown> = { kind: "ReceiveConnector", name };
  setIf(record, "enabled", r.read("Enabled", bool));
  setIf(record, "comment", r.read("Comment", text) || undefined);
  const bindings = r.read("Bindings", (v) => list(v).map(binding));
  if (!bindings?.length) return { ...item, skip: "no Bindings: nothing to listen on" };
  record.bindings = bindings;
  setIf(
    record,
    "remoteIpRanges",
    r.read("RemoteIPRanges", (v) => list(v).map(ipRange)),
  );

  const auth = r.read("AuthMechanism", (v) => flags(v, AUTH_MECHANISMS)) ?? [];
  const groups = r.read("PermissionGroups", (v) => flags(v, GROUPS)) ?? [];
  const mechanisms: AuthMechanism[] = [];
  for (const a of auth) {
    if (a === "Tls" || a === "BasicAuth") mechanisms.push(a);
    else if (a === "BasicAuthRequireTLS") mechanisms.push("BasicAuthRequireTls");
    else if (a === "Integrated")
      r.note("AuthMechanism", `Integrated (NTLM/Kerberos) is not offered: ${USERS_ACTION}`);
    else if (a === "ExchangeServer")
      r.note("AuthMechanism", "ExchangeServer authentication is between Exchange servers only");
  }
  record.authMechanisms = mechanisms.length > 0 ? mechanisms : ["None"];
  const permissionGroups: PermissionGroup[] = [];
  const grants = grantsFromAdPermissions(r);
  for (const g of groups) {
    if (g === "AnonymousUsers") permissionGroups.push("AnonymousUsers");
    else if (g === "ExchangeUsers") permissionGroups.push("Users");
    else if (g === "Partners")
      r.note(
        "PermissionGroups",
        "Partners needs partnerDomains and tlsClientCaBundle here (Exchange took them from TLSReceiveDomainSecureList and the Windows certificate store): set them with relay receive-connector set --permission-groups ...,Partners",
      );
    else if (g === "Custom") {
      if (grants.length === 0)
        r.note(
          "PermissionGroups",
          "Custom rights were granted with Add-ADPermission; add them with relay receive-connector set --granted-permissions, or export them as ADPermissions (see README)",
        );
    } else if (!(g === "ExchangeServers" && auth.includes("ExternalAuthoritative")))
      r.note(
        "PermissionGroups",
        `${g} are Exchange servers; this relay has no Exchange servers to trust`,
      );
  }
  // Exchange's documented anonymous relay: ExternalAuthoritative + ExchangeServers trusts every
  // client in RemoteIPRanges like an Exchange server, i.e. it may relay and send as anyone.
  if (auth.includes("ExternalAuthoritative")) {
    if (!permissionGroups.includes("AnonymousUsers")) permissionGroups.push("AnonymousUsers");
    grants.push("AnonymousUsers:AcceptAnyRecipient", "AnonymousUsers:AcceptAnySender");
    r.note(
      "AuthMechanism",
      "ExternalAuthoritative became AnonymousUsers with AcceptAnyRecipient and AcceptAnySender: every client in remoteIpRanges may relay, as before; keep those ranges narrow",
    );
  }
  if (permissionGroups.length === 0)
    return {
      ...item,
      skip: `no client this relay serves may use it (PermissionGroups: ${groups.join(", ") || "None"})`,
    };
  record.permissionGroups = permissionGroups;
  if (grants.length > 0) record.grantedPermissions = [...new Set(grants)];

  setIf(record, "requireTls", r.read("RequireTLS", bool));
  setIf(record, "fqdn", r.read("Fqdn", text) || undefined);
  // Exchange's Banner includes the reply code ("220 Contoso Mail"); here the text after "220 ".
  setIf(
    record,
    "banner",
    r.read("Banner", (v) => text(v)?.replace(/^220[ -]/, "") || undefined),
  );
  const maxSize = r.read("MaxMessageSize", size);
  setIf(
    record,
    "maxMessageSize",
    whole(
      r,
      "MaxMessageSize",
      maxSize,
      "Unlimited is not allowed on a receive connector; the default 36 MB applies",
    ),
  );
  for (const [property, field] of [
    ["MaxRecipientsPerMessage", "maxRecipientsPerMessage"],
    ["MaxProtocolErrors", "maxProtocolErrors"],
    ["MaxInboundConnection", "maxInboundConnection"],
    ["MaxInboundConnectionPerSource", "maxInboundConnectionPerSource"],
    ["MaxHopCount", "maxHopCount"],
  ] as const)
    setIf(
      record,
      field,
      whole(
        r,
        property,
        r.read(property, limit),
        "Unlimited has no counterpart; this relay's default applies",
      ),
    );
  const rateSource = r.read("MessageRateSource", (v) =>
    enumName(v, ["None", "IPAddress", "User", "All"]),
  );
  const rate = r.read("MessageRateLimit", limit);
  if (rate !== undefined && rate !== UNLIMITED && rateSource !== "None") {
    record.messageRateLimit = rate;
    if (rateSource) record.messageRateSource = rateSource;
  }
  const seconds = (property: string, field: string) =>
    setIf(
      record,
      field,
      whole(
        r,
        property,
        r.read(property, timespan),
        "Unlimited has no counterpart; this relay's default applies",
      ),
    );
  seconds("TarpitInterval", "tarpitInterval");
  seconds("ConnectionTimeout", "connectionTimeout");
  seconds("ConnectionInactivityTimeout", "connectionInactivityTimeout");
  if (typeof record.tarpitInterval === "number" && record.tarpitInterval > 600) {
    r.note(
      "TarpitInterval",
      `${record.tarpitInterval} s is over this relay's 600 s; 600 s applies`,
    );
    record.tarpitInterval = 600;
  }
  setIf(
    record,
    "protocolLogging",
    r.read("ProtocolLoggingLevel", (v) => enumName(v, ["None", "Verbose"])),
  );
  r.unmapped(UNMAPPED);
  return { ...item, record };
}
