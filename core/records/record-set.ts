// A validated snapshot of all records, with single-record and cross-record rules applied.

import {
  isUnspecified,
  parseIp,
  parseRemoteIpRange,
  rangeContains,
  rangesOverlap,
} from "../net/ip-range.ts";
import type { AcceptedDomain } from "./accepted-domain.ts";
import { parseHostPort } from "./common.ts";
import type { DkimSigningConfig } from "./dkim-signing-config.ts";
import { type AnyRecord, formatProblem, parseRecord, type RecordProblem } from "./index.ts";
import type { ReceiveConnector } from "./receive-connector.ts";
import type { SendConnector } from "./send-connector.ts";
import type { SmtpUser } from "./smtp-user.ts";
import { DEFAULT_TRANSPORT_SETTINGS, type TransportSettings } from "./transport-settings.ts";

/** Everything the relay runs on. Invalid records are left out and listed in `problems`. */
export interface RecordSet {
  sendConnectors: SendConnector[];
  receiveConnectors: ReceiveConnector[];
  acceptedDomains: AcceptedDomain[];
  smtpUsers: SmtpUser[];
  settings: TransportSettings;
  dkimSigningConfigs: DkimSigningConfig[];
  problems: RecordProblem[];
}

const label = (kind: string, id: string) => `${kind} "${id}"`;

/** Rules within one send connector that zod cannot express field by field. */
export function sendConnectorProblems(c: SendConnector): RecordProblem[] {
  const record = label("SendConnector", c.name);
  const out: RecordProblem[] = [];
  if (c.dnsRoutingEnabled && c.smartHosts.length > 0) {
    out.push({
      record,
      field: "smartHosts",
      message:
        "smart hosts require dnsRoutingEnabled false; set dnsRoutingEnabled to false or remove the smart hosts",
    });
  }
  if (!c.dnsRoutingEnabled && c.smartHosts.length === 0) {
    out.push({
      record,
      field: "smartHosts",
      message:
        "dnsRoutingEnabled is false but no smart host is listed; add a smart host or set dnsRoutingEnabled to true",
    });
  }
  if (c.tlsAuthLevel && !c.requireTls) {
    out.push({
      record,
      field: "tlsAuthLevel",
      message:
        "tlsAuthLevel applies only with requireTls; set requireTls to true or remove tlsAuthLevel",
    });
  }
  if (c.tlsDomain && c.tlsAuthLevel !== "DomainValidation") {
    out.push({
      record,
      field: "tlsDomain",
      message: 'tlsDomain applies only with tlsAuthLevel "DomainValidation"',
    });
  }
  if (c.tlsAuthLevel === "DomainValidation" && !c.tlsDomain) {
    out.push({
      record,
      field: "tlsDomain",
      message:
        'tlsAuthLevel "DomainValidation" needs tlsDomain, the name the remote certificate must carry',
    });
  }
  if (c.smartHostAuthMechanism !== "None") {
    if (c.dnsRoutingEnabled)
      out.push({
        record,
        field: "smartHostAuthMechanism",
        message:
          "smart host authentication needs smart hosts; set dnsRoutingEnabled to false and list smartHosts",
      });
    if (!c.smartHostAuthSecret)
      out.push({
        record,
        field: "smartHostAuthSecret",
        message: `${c.smartHostAuthMechanism} needs smartHostAuthSecret, the name of the secret holding the credentials`,
      });
  }
  if (c.smartHostAuthSecret && c.smartHostAuthMechanism === "None") {
    out.push({
      record,
      field: "smartHostAuthSecret",
      message:
        'a secret is set but smartHostAuthMechanism is "None"; set it to "BasicAuthRequireTls" or remove the secret',
    });
  }
  const seen = new Set<string>();
  c.addressSpaces.forEach((a, i) => {
    if (seen.has(a.domain))
      out.push({
        record,
        field: `addressSpaces[${i}].domain`,
        message: `address space "${a.domain}" is listed twice`,
      });
    seen.add(a.domain);
  });
  return out;
}

/** Rules within one receive connector that zod cannot express field by field: Partners needs both partner fields and TLS. */
export function receiveConnectorProblems(c: ReceiveConnector): RecordProblem[] {
  const record = label("ReceiveConnector", c.name);
  const problem = (field: string, message: string): RecordProblem => ({ record, field, message });
  const out: RecordProblem[] = [];
  const partners =
    c.permissionGroups.includes("Partners") ||
    c.grantedPermissions.some((g) => g.startsWith("Partners:"));
  if (partners && c.partnerDomains.length === 0)
    out.push(
      problem(
        c.permissionGroups.includes("Partners") ? "permissionGroups" : "grantedPermissions",
        "Partners is granted only to a client certificate naming one of partnerDomains; set partnerDomains and tlsClientCaBundle",
      ),
    );
  if (c.partnerDomains.length > 0 && !c.tlsClientCaBundle)
    out.push(
      problem(
        "tlsClientCaBundle",
        "partnerDomains needs tlsClientCaBundle, the CA certificates a partner's certificate must chain to",
      ),
    );
  if (c.tlsClientCaBundle && c.partnerDomains.length === 0)
    out.push(
      problem(
        "partnerDomains",
        "tlsClientCaBundle applies only with partnerDomains, the domains a partner's certificate may name",
      ),
    );
  if (c.partnerDomains.length > 0 && !c.implicitTls && !c.authMechanisms.includes("Tls"))
    out.push(
      problem(
        "partnerDomains",
        'a client certificate is asked for only under TLS; add "Tls" to authMechanisms or set implicitTls',
      ),
    );
  return out;
}

function bindingOf(text: string): { ip: string; port: number } {
  const hp = parseHostPort(text);
  return { ip: hp?.host ?? text, port: hp?.port ?? 0 };
}

/** True when two bindings can receive the same connection (same port, same or wildcard address). */
export function bindingsOverlap(a: string, b: string): boolean {
  const x = bindingOf(a);
  const y = bindingOf(b);
  if (x.port !== y.port) return false;
  // 0.0.0.0 covers the IPv4 addresses only and :: the IPv6 ones, as the listener binds them.
  if (parseIp(x.ip)?.family !== parseIp(y.ip)?.family) return false;
  return x.ip === y.ip || isUnspecified(x.ip) || isUnspecified(y.ip);
}

/**
 * Cross-record rules for receive connectors: on bindings that overlap, remote IP ranges of two
 * connectors may overlap only when one contains the other (so the most specific match is always
 * unambiguous), and must not be identical; connectors sharing a binding must agree on implicit TLS.
 */
export function receiveConnectorSetProblems(connectors: ReceiveConnector[]): RecordProblem[] {
  const out: RecordProblem[] = [];
  const enabled = connectors.filter((c) => c.enabled);
  for (let i = 0; i < enabled.length; i++) {
    for (let j = i + 1; j < enabled.length; j++) {
      const a = enabled[i]!;
      const b = enabled[j]!;
      const shared = a.bindings.filter((x) => b.bindings.some((y) => bindingsOverlap(x, y)));
      if (shared.length === 0) continue;
      const record = label("ReceiveConnector", b.name);
      if (a.implicitTls !== b.implicitTls) {
        out.push({
          record,
          field: "implicitTls",
          message: `shares binding ${shared[0]} with "${a.name}" but differs in implicitTls; use one port for implicit TLS and another for STARTTLS`,
        });
      }
      for (const ra of a.remoteIpRanges) {
        for (const rb of b.remoteIpRanges) {
          const x = parseRemoteIpRange(ra);
          const y = parseRemoteIpRange(rb);
          if (!x || !y || !rangesOverlap(x, y)) continue;
          if (x.start === y.start && x.end === y.end) {
            out.push({
              record,
              field: "remoteIpRanges",
              message: `range ${rb} is also on "${a.name}" (${ra}) for binding ${shared[0]}; a connection would match both equally, so remove it from one of them`,
            });
          } else if (!rangeContains(x, y) && !rangeContains(y, x)) {
            out.push({
              record,
              field: "remoteIpRanges",
              message: `range ${rb} partly overlaps ${ra} of "${a.name}" on binding ${shared[0]}; ranges on one binding may overlap only when one contains the other`,
            });
          }
        }
      }
    }
  }
  return out;
}

/** Keeps the first record of each id (case-insensitive) and reports the later ones, which are left out. */
function unique<T>(
  items: T[],
  key: (t: T) => string,
  kind: string,
  field: string,
  problems: RecordProblem[],
): T[] {
  const seen = new Set<string>();
  const kept: T[] = [];
  for (const item of items) {
    const k = key(item).toLowerCase();
    if (seen.has(k)) {
      problems.push({
        record: label(kind, key(item)),
        field,
        message: `another ${kind} has the same ${field}; ${field}s must be unique (case does not count)`,
      });
      continue;
    }
    seen.add(k);
    kept.push(item);
  }
  return kept;
}

/**
 * Builds a RecordSet from raw stored items. A record that fails its schema or its own rules is left
 * out; a cross-record conflict is reported on the later record, which is also left out, so the rest
 * keeps working (the relay never stops for one bad record).
 */
export function buildRecordSet(raws: unknown[]): RecordSet {
  const problems: RecordProblem[] = [];
  const records: AnyRecord[] = [];
  for (const raw of raws) {
    const r = parseRecord(raw);
    if (r.ok) records.push(r.record);
    else problems.push(...r.problems);
  }
  const ofKind = <K extends AnyRecord["kind"]>(kind: K, idField: string) =>
    unique(
      records.filter((r): r is Extract<AnyRecord, { kind: K }> => r.kind === kind),
      (r) => String((r as Record<string, unknown>)[idField]),
      kind,
      idField,
      problems,
    );
  const sendConnectors: SendConnector[] = [];
  const sendRecords = ofKind("SendConnector", "name");
  for (const c of sendRecords) {
    const p = sendConnectorProblems(c);
    if (p.length) problems.push(...p);
    else sendConnectors.push(c);
  }
  const receive = ofKind("ReceiveConnector", "name");
  const receiveConnectors: ReceiveConnector[] = [];
  for (const c of receive) {
    const p = [
      ...receiveConnectorProblems(c),
      ...receiveConnectorSetProblems([...receiveConnectors, c]).filter(
        (x) => x.record === label("ReceiveConnector", c.name),
      ),
    ];
    if (p.length) problems.push(...p);
    else receiveConnectors.push(c);
  }
  const acceptedDomains = ofKind("AcceptedDomain", "domain");
  const smtpUsers = ofKind("SmtpUser", "name");
  const dkimSigningConfigs = ofKind("DkimSigningConfig", "domain");
  const settingsRecords = records.filter(
    (r): r is TransportSettings => r.kind === "TransportSettings",
  );
  return {
    sendConnectors,
    receiveConnectors,
    acceptedDomains,
    smtpUsers,
    settings: settingsRecords[0] ?? DEFAULT_TRANSPORT_SETTINGS,
    dkimSigningConfigs,
    problems,
  };
}

export { formatProblem };
