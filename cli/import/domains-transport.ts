// Get-AcceptedDomain objects as AcceptedDomain records; Get-TransportConfig/Get-TransportService as the TransportSettings record.
import { ipPort } from "#core/records/common.ts";
import { type MappedItem, type Note, PropertyReader, setIf, type Unmapped } from "./model.ts";
import {
  bool,
  enumName,
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

/** Exchange's AcceptedDomainType in declaration order: Authoritative = 0, ExternalRelay = 1, InternalRelay = 2. */
const DOMAIN_TYPES = ["Authoritative", "ExternalRelay", "InternalRelay"];

export function mapAcceptedDomain(object: Record<string, unknown>, source: string): MappedItem {
  const r = new PropertyReader(object);
  const raw = r.raw("DomainName");
  let domain = (
    text(isObject(raw) ? (prop(raw, "Address") ?? prop(raw, "Domain")) : raw) ?? ""
  ).toLowerCase();
  const sub =
    (isObject(raw) && prop(raw, "IncludeSubDomains") === true) ||
    r.read("MatchSubDomains", bool) === true;
  if (sub && domain !== "" && !domain.startsWith("*.")) domain = `*.${domain}`;
  const item: MappedItem = { kind: "AcceptedDomain", id: domain, source, notes: r.notes };
  if (domain === "") return { ...item, skip: "no DomainName" };
  const record: Record<string, unknown> = { kind: "AcceptedDomain", domain };
  setIf(
    record,
    "domainType",
    r.read("DomainType", (v) => enumName(v, DOMAIN_TYPES)),
  );
  const name = r.read("Name", text);
  if (name && name.toLowerCase() !== domain) record.comment = name;
  if (r.read("Default", bool) === true)
    r.note(
      "Default",
      "the default domain is where Exchange's postmaster address lives: set it with relay transport-config set --postmaster",
    );
  if (r.read("AddressBookEnabled", bool) === true && record.domainType === "InternalRelay")
    r.note(
      "AddressBookEnabled",
      "recipient filtering against an address book is not done; every recipient of the domain is accepted",
    );
  return { ...item, record };
}

const TRANSPORT_UNMAPPED: Record<string, Unmapped> = {
  MaxSendSize: {
    reason: "organisation-wide size limits are set per connector here (maxMessageSize)",
    ignore: (v) => String(v).includes("Unlimited"),
  },
  MaxReceiveSize: {
    reason: "organisation-wide size limits are set per connector here (maxMessageSize)",
    ignore: (v) => String(v).includes("Unlimited"),
  },
  MaxRecipientEnvelopeLimit: {
    reason: "set per receive connector here (maxRecipientsPerMessage)",
    ignore: (v) => String(v).includes("Unlimited"),
  },
  MaxPerDomainOutboundConnections: {
    reason: "the delivery workers' concurrency is set per deployment, not by this record",
  },
  MaxOutboundConnections: {
    reason: "the delivery workers' concurrency is set per deployment, not by this record",
  },
  TLSReceiveDomainSecureList: {
    reason: "set partnerDomains and tlsClientCaBundle on the receive connector instead",
  },
  TLSSendDomainSecureList: {
    reason: "set requireTls with tlsAuthLevel DomainValidation on the send connector instead",
  },
  InternalDNSServers: {
    reason: "there is no internal routing; MX lookups use the send connector's DNS servers",
  },
  ShadowRedundancyEnabled: {
    reason: "durability comes from SQS (AWS) or fsync (local) before the 250 reply",
    ignore: () => true,
  },
  SafetyNetHoldTime: {
    reason: "durability comes from SQS (AWS) or fsync (local) before the 250 reply",
    ignore: () => true,
  },
  PickupDirectoryPath: { reason: "there is no pickup directory; submit over SMTP" },
  ReplayDirectoryPath: {
    reason: "there is no replay directory; submit over SMTP",
    ignore: () => true,
  },
  MessageTrackingLogEnabled: { reason: "message tracking is always on", ignore: (v) => v === true },
  ExternalDsnReportingAuthority: {
    reason: "NDRs name this relay's host name (transport-config hostName)",
  },
};

const days = (s: number) => Math.max(1, Math.round((s / 86_400) * 100) / 100);
const megabytes = (b: number) => Math.max(1, Math.round((b / 1024 ** 2) * 100) / 100);

/** One TransportSettings item from every transport object given (config and per-server service). */
export function mapTransport(
  objects: Record<string, unknown>[],
  source: string,
): { item: MappedItem; externalDnsServers: string[] } {
  const merged: Record<string, unknown> = {};
  const notes: Note[] = [];
  for (const o of objects)
    for (const [k, v] of Object.entries(o)) {
      if (!(k in merged) || merged[k] === null) merged[k] = v;
      else if (
        v !== null &&
        JSON.stringify(v) !== JSON.stringify(merged[k]) &&
        !/^(Name|Identity|Guid|Id|DistinguishedName|WhenChanged|WhenCreated|WhenChangedUTC|WhenCreatedUTC|OriginatingServer|ObjectState)$/i.test(
          k,
        )
      )
        notes.push({
          property: k,
          message: `differs between the objects given; the first (${JSON.stringify(merged[k])}) is used`,
        });
    }
  const r = new PropertyReader(merged);
  r.notes.push(...notes);
  const record: Record<string, unknown> = { kind: "TransportSettings", name: "default" };
  const secs = (property: string): number | undefined => {
    const v: Limit | undefined = r.read(property, timespan);
    if (v === UNLIMITED)
      r.note(property, "Unlimited has no counterpart; this relay's default applies");
    return v === UNLIMITED ? undefined : v;
  };
  const bytes = (property: string): number | undefined => {
    const v = r.read(property, size);
    if (v === UNLIMITED)
      r.note(property, "Unlimited has no counterpart; this relay's default applies");
    return v === UNLIMITED ? undefined : v;
  };
  const transientInterval = secs("TransientFailureRetryInterval");
  const transientCount = r.read("TransientFailureRetryCount", limit);
  const retryInterval = secs("MessageRetryInterval");
  if (
    transientInterval !== undefined ||
    transientCount !== undefined ||
    retryInterval !== undefined
  ) {
    // Exchange's glitch retries (4 × 1 min, EdgeTransport.exe.config) are not in the cmdlets' output.
    const count = transientCount === UNLIMITED ? 6 : (transientCount ?? 6);
    record.retrySchedule = [
      { intervalSeconds: 60, count: 4 },
      ...(count > 0 ? [{ intervalSeconds: transientInterval ?? 300, count }] : []),
      { intervalSeconds: retryInterval ?? 900, count: 1 },
    ];
  }
  setIf(record, "messageExpirationTimeoutSeconds", secs("MessageExpirationTimeout"));
  setIf(record, "delayNotificationTimeoutSeconds", secs("DelayNotificationTimeout"));
  setIf(record, "postmaster", r.read("ExternalPostmasterAddress", text) || undefined);
  const tracking = secs("MessageTrackingLogMaxAge");
  if (tracking !== undefined) record.messageTrackingLogMaxAgeDays = days(tracking);
  for (const log of ["Receive", "Send"] as const) {
    const age = secs(`${log}ProtocolLogMaxAge`);
    if (age !== undefined && age > 0)
      record[`${log.toLowerCase()}ProtocolLogMaxAgeDays`] = days(age);
    const dir = bytes(`${log}ProtocolLogMaxDirectorySize`);
    if (dir !== undefined)
      record[`${log.toLowerCase()}ProtocolLogMaxDirectorySizeMb`] = megabytes(dir);
    const file = bytes(`${log}ProtocolLogMaxFileSize`);
    if (file !== undefined)
      record[`${log.toLowerCase()}ProtocolLogMaxFileSizeMb`] = megabytes(file);
  }
  const servers =
    r.read("ExternalDNSServers", (v) =>
      list(v, { split: true })
        .map((x) => text(x) ?? "")
        .filter((ip) => {
          if (ipPort.safeParse(ip).success) return true;
          r.note("ExternalDNSServers", `"${ip}" is not an IP address; left out`);
          return false;
        }),
    ) ?? [];
  r.unmapped(TRANSPORT_UNMAPPED);
  const item: MappedItem = {
    kind: "TransportSettings",
    id: "default",
    source,
    notes: r.notes,
    record,
  };
  if (Object.keys(record).length === 2) item.skip = "none of its properties has a counterpart here";
  return { item, externalDnsServers: servers };
}
