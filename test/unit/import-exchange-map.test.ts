// Mapping Exchange objects to records, against fixtures built from the cmdlet references' documented defaults and examples.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { mapAcceptedDomain, mapTransport } from "#cli/import/domains-transport.ts";
import type { MappedItem } from "#cli/import/model.ts";
import { parseExport } from "#cli/import/read.ts";
import { mapReceiveConnector } from "#cli/import/receive.ts";
import { mapSendConnector } from "#cli/import/send.ts";
import { parseRecord } from "#core/records/index.ts";

const DIR = join(import.meta.dirname, "..", "fixtures", "exchange");
const load = (file: string) => parseExport(file, readFileSync(join(DIR, file), "utf8"));
const byName = (items: MappedItem[], id: string) => {
  const item = items.find((i) => i.id === id);
  if (!item) throw new Error(`no item ${id}`);
  return item;
};
/** The record as the relay reads it: every imported record must pass its own schema. */
const parsed = (item: MappedItem) => {
  const r = parseRecord(item.record);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.record as Record<string, unknown>;
};
const notes = (item: MappedItem) => item.notes.map((n) => `${n.property}: ${n.message}`).join("\n");

const receive = load("receive-connectors.json").map((o, i) => mapReceiveConnector(o, `r[${i}]`));

test("Exchange's default front-end connector keeps its bindings, ranges, limits and logging; Exchange-only parts are noted", () => {
  const item = byName(receive, "Default Frontend EX01");
  expect(parsed(item)).toMatchObject({
    bindings: ["[::]:25", "0.0.0.0:25"],
    remoteIpRanges: ["::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0.0.0.0-255.255.255.255"],
    authMechanisms: ["Tls", "BasicAuth", "BasicAuthRequireTls"],
    permissionGroups: ["AnonymousUsers"],
    banner: "mail.contoso.com Contoso mail service",
    fqdn: "mail.contoso.com",
    maxMessageSize: 37_748_736,
    maxInboundConnectionPerSource: 20,
    tarpitInterval: 5,
    connectionTimeout: 600,
    connectionInactivityTimeout: 300,
    protocolLogging: "Verbose",
  });
  expect(parsed(item).messageRateLimit).toBeUndefined();
  expect(notes(item)).toMatch(/AuthMechanism: Integrated .*relay user new/);
  expect(notes(item)).toMatch(/PermissionGroups: ExchangeServers are Exchange servers/);
  expect(notes(item)).toMatch(/TlsCertificateName: /);
  // Defaults that need no note: MaxLocalHopCount, MaxHeaderSize 256 KB, MaxLogonFailures 3.
  expect(notes(item)).not.toMatch(/MaxLocalHopCount|MaxHeaderSize|MaxLogonFailures/);
});

test("the client connector: ExchangeUsers become Users, the message rate limit counts per user", () => {
  expect(parsed(byName(receive, "Client Frontend EX01"))).toMatchObject({
    bindings: ["[::]:587", "0.0.0.0:587"],
    permissionGroups: ["Users"],
    messageRateLimit: 5,
    messageRateSource: "User",
  });
});

test("hub transport and Exchange-servers-only connectors are skipped with the reason", () => {
  expect(byName(receive, "Default EX01").skip).toMatch(/HubTransport/);
  expect(byName(receive, "Client Proxy EX01").skip).toMatch(/HubTransport/);
  expect(byName(receive, "Outbound Proxy Frontend EX01").skip).toMatch(
    /PermissionGroups: ExchangeServers/,
  );
});

test("anonymous relay: the Add-ADPermission grant and the ExternalAuthoritative way both become relay rights", () => {
  expect(parsed(byName(receive, "Anonymous Relay"))).toMatchObject({
    remoteIpRanges: ["192.168.5.10", "192.168.5.20-192.168.5.30"],
    permissionGroups: ["AnonymousUsers"],
    grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
    comment: "Printers and the ERP system",
  });
  const secured = byName(receive, "Externally Secured Relay");
  expect(parsed(secured)).toMatchObject({
    authMechanisms: ["Tls"],
    permissionGroups: ["AnonymousUsers"],
    grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient", "AnonymousUsers:AcceptAnySender"],
  });
  expect(notes(secured)).toMatch(/ExternalAuthoritative became AnonymousUsers/);
});

test("a local shell's objects and enum numbers map as a remote session's strings do", () => {
  const [object] = load("receive-connector-local-shell.json");
  const item = mapReceiveConnector(object as Record<string, unknown>, "local");
  expect(parsed(item)).toMatchObject({
    name: "Scanner Relay",
    bindings: ["0.0.0.0:2526"],
    remoteIpRanges: ["10.20.0.0/24", "10.30.0.7"],
    authMechanisms: ["Tls"],
    permissionGroups: ["AnonymousUsers"],
    maxMessageSize: 26_214_400,
    tarpitInterval: 5,
    connectionTimeout: 600,
    protocolLogging: "Verbose",
  });
  expect(notes(item)).toMatch(/Partners needs partnerDomains/);
});

const transport = mapTransport(load("transport-config.json"), "t");
const send = load("send-connectors.json").map((o, i) =>
  mapSendConnector(o, `s[${i}]`, { externalDnsServers: transport.externalDnsServers }),
);

test("the internet connector: address space *, MX, the transport service's external DNS servers", () => {
  const item = byName(send, "To Internet");
  expect(parsed(item)).toMatchObject({
    addressSpaces: [{ domain: "*", cost: 1 }],
    dnsRoutingEnabled: true,
    externalDnsServers: ["10.0.0.53", "10.0.1.53"],
    maxMessageSize: 36_700_160,
    fqdn: "mail.contoso.com",
    protocolLogging: "Verbose",
  });
  expect(notes(item)).toMatch(/SourceTransportServers: .*NAT gateways/);
  expect(notes(item)).not.toMatch(/SourceIPAddress|SmtpMaxMessagesPerConnection/);
});

test("without --transport-config, external DNS is noted instead of guessed", () => {
  const [object] = load("send-connectors.json");
  const item = mapSendConnector(object as Record<string, unknown>, "s", {});
  expect(parsed(item).externalDnsServers).toEqual([]);
  expect(notes(item)).toMatch(/UseExternalDNSServersEnabled: .*--transport-config/);
});

test("a smart-host connector keeps hosts, port, TLS and names the secret its password goes in", () => {
  const item = byName(send, "Fabrikam via smart host");
  expect(parsed(item)).toMatchObject({
    addressSpaces: [
      { domain: "fabrikam.com", cost: 10 },
      { domain: "*.fabrikam.com", cost: 10 },
    ],
    dnsRoutingEnabled: false,
    smartHosts: ["smtp.fabrikam.net", "192.168.10.5"],
    port: 587,
    requireTls: true,
    tlsAuthLevel: "DomainValidation",
    tlsDomain: "smtp.fabrikam.net",
    smartHostAuthMechanism: "BasicAuthRequireTls",
    smartHostAuthSecret: "send-connector/fabrikam-via-smart-host",
    usage: "Internal",
  });
  expect(parsed(item).maxMessageSize).toBeUndefined();
  expect(notes(item)).toMatch(/X400:.* is not an SMTP address space/);
  expect(notes(item)).toMatch(/--auth-user relay@contoso\.com/);
});

test("address-space objects, numeric TLS level and a disabled connector", () => {
  expect(parsed(byName(send, "Tailspin Toys"))).toMatchObject({
    addressSpaces: [{ domain: "tailspintoys.com", cost: 5 }],
    requireTls: true,
    tlsAuthLevel: "CertificateValidation",
    protocolLogging: "None",
    enabled: false,
  });
});

test("an Edge subscription's inbound connector is skipped", () => {
  expect(byName(send, "EdgeSync - Inbound to Default-First-Site-Name").skip).toMatch(
    /Edge subscription/,
  );
});

test("accepted domains: names, objects, numeric types and subdomains", () => {
  const domains = load("accepted-domains.json").map((o, i) => mapAcceptedDomain(o, `d[${i}]`));
  expect(domains.map(parsed).map((d) => [d.domain, d.domainType])).toEqual([
    ["contoso.com", "Authoritative"],
    ["fabrikam.com", "InternalRelay"],
    ["*.tailspintoys.com", "ExternalRelay"],
  ]);
  expect(notes(byName(domains, "contoso.com"))).toMatch(/Default: .*--postmaster/);
});

test("transport settings: retry, expiry, delay DSN, postmaster and log retention", () => {
  expect(parsed(transport.item)).toMatchObject({
    retrySchedule: [
      { intervalSeconds: 60, count: 4 },
      { intervalSeconds: 600, count: 3 },
      { intervalSeconds: 300, count: 1 },
    ],
    messageExpirationTimeoutSeconds: 86_400,
    delayNotificationTimeoutSeconds: 7200,
    postmaster: "postmaster@contoso.com",
    messageTrackingLogMaxAgeDays: 30,
    receiveProtocolLogMaxAgeDays: 30,
    receiveProtocolLogMaxDirectorySizeMb: 250,
    receiveProtocolLogMaxFileSizeMb: 10,
    sendProtocolLogMaxAgeDays: 7,
  });
  expect(notes(transport.item)).toMatch(/MaxPerDomainOutboundConnections: /);
  expect(notes(transport.item)).not.toMatch(/ShadowRedundancyEnabled|MessageTrackingLogEnabled/);
});

test("an unreadable value is a note on its property; the rest of the object still maps", () => {
  const item = mapReceiveConnector(
    {
      Name: "Odd",
      Bindings: ["0.0.0.0:25"],
      PermissionGroups: "AnonymousUsers",
      TarpitInterval: "five seconds",
    },
    "x",
  );
  expect(parsed(item).tarpitInterval).toBe(5);
  expect(notes(item)).toMatch(/TarpitInterval: "five seconds" is not a time span/);
});
