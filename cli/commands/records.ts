// `relay send-connector|receive-connector|accepted-domain|user new|get|set|remove` and `relay records validate`.
import type { ParseArgsOptionsConfig } from "node:util";
import { hashPassword } from "#core/auth/password.ts";
import {
  formatProblem,
  parseRecord,
  RECORD_ID_FIELD,
  type RecordKind,
  type RecordProblem,
} from "#core/records/index.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import { bytes, type Flags, int, list, num, parseFlags, requireStr, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { NotFoundCliError, UsageError } from "../errors.ts";
import { type Out, printMessage, printRecord, printTable } from "../output.ts";
import { readPassword } from "../prompt.ts";

type FlagType = "string" | "list" | "bool" | "int" | "num" | "bytes" | "addressSpaces";

interface FieldFlag {
  flag: string;
  field: string;
  type: FlagType;
}

interface KindSpec {
  kind: RecordKind;
  noun: string;
  idFlag: string;
  fields: FieldFlag[];
  /** Extra flags handled by `apply` (not plain fields). */
  extra?: ParseArgsOptionsConfig;
  /** Table columns for `get` without an id. */
  columns: string[];
  row: (r: Record<string, unknown>) => Record<string, unknown>;
  apply?: (
    ctx: CliContext,
    flags: Flags,
    record: Record<string, unknown>,
    isNew: boolean,
  ) => Promise<void>;
}

const f = (flag: string, field: string, type: FlagType = "string"): FieldFlag => ({
  flag,
  field,
  type,
});

/** "*;1,contoso.com;5", also Exchange's "smtp:contoso.com;5" → [{ domain, cost }]. */
export function parseAddressSpaces(value: string): Array<{ domain: string; cost: number }> {
  return list(value).map((entry) => {
    const text = entry.replace(/^smtp:/i, "");
    const [domain, cost, ...rest] = text.split(";");
    if (rest.length > 0 || !domain)
      throw new UsageError(
        `--address-spaces: "${entry}" is not an address space; use "domain;cost", e.g. "*;1" or "contoso.com;5"`,
      );
    if (cost !== undefined && !/^\d+$/.test(cost.trim()))
      throw new UsageError(
        `--address-spaces: cost "${cost}" in "${entry}" is not a whole number from 1 to 100`,
      );
    return { domain: domain.trim(), cost: cost === undefined ? 1 : Number(cost) };
  });
}

const formatAddressSpaces = (v: unknown) =>
  Array.isArray(v)
    ? v.map((a: { domain: string; cost: number }) => `smtp:${a.domain};${a.cost}`)
    : v;

const RELAY_GRANT = "AnonymousUsers:AcceptAnyRecipient";

const SPECS: Record<string, KindSpec> = {
  "send-connector": {
    kind: "SendConnector",
    noun: "send-connector",
    idFlag: "name",
    fields: [
      f("name", "name"),
      f("enabled", "enabled", "bool"),
      f("usage", "usage"),
      f("address-spaces", "addressSpaces", "addressSpaces"),
      f("dns-routing-enabled", "dnsRoutingEnabled", "bool"),
      f("smart-hosts", "smartHosts", "list"),
      f("port", "port", "int"),
      f("dns-servers", "externalDnsServers", "list"),
      f("fqdn", "fqdn"),
      f("require-tls", "requireTls", "bool"),
      f("tls-auth-level", "tlsAuthLevel"),
      f("tls-domain", "tlsDomain"),
      f("mta-sts-enabled", "mtaStsEnabled", "bool"),
      f("dane-enabled", "daneEnabled", "bool"),
      f("dnssec-validating-resolver", "dnssecValidatingResolver", "bool"),
      f("auth-mechanism", "smartHostAuthMechanism"),
      f("max-message-size", "maxMessageSize", "bytes"),
      f("source-listeners", "sourceListeners", "list"),
      f("sender-address-spaces", "senderAddressSpaces", "list"),
      f("protocol-logging", "protocolLogging"),
      f("comment", "comment"),
    ],
    extra: { "auth-user": { type: "string" } },
    columns: ["Identity", "AddressSpaces", "Enabled", "Routing", "Port", "RequireTls"],
    row: (r) => ({
      Identity: r.name,
      AddressSpaces: formatAddressSpaces(r.addressSpaces),
      Enabled: r.enabled ?? true,
      Routing:
        r.dnsRoutingEnabled === false
          ? `smart hosts ${(r.smartHosts as string[] | undefined)?.join(", ") ?? ""}`
          : "MX",
      Port: r.port ?? 25,
      RequireTls: r.requireTls ?? false,
    }),
    apply: async (ctx, flags, record) => {
      // Exchange makes you say -DNSRoutingEnabled $false with -SmartHosts; naming smart hosts is enough here.
      if (str(flags, "smart-hosts") !== undefined && flags["dns-routing-enabled"] === undefined)
        record.dnsRoutingEnabled = false;
      const user = str(flags, "auth-user");
      if (user !== undefined) {
        const password = await readPassword(`Password for smart host user ${user}: `);
        const secretName = `send-connector/${String(record.name)
          .toLowerCase()
          .replace(/[^a-z0-9._-]/g, "-")}`;
        await ctx.secrets.set(secretName, JSON.stringify({ username: user, password }));
        record.smartHostAuthSecret = secretName;
        if (record.smartHostAuthMechanism === undefined || record.smartHostAuthMechanism === "None")
          record.smartHostAuthMechanism = "BasicAuthRequireTls";
      }
    },
  },
  "receive-connector": {
    kind: "ReceiveConnector",
    noun: "receive-connector",
    idFlag: "name",
    fields: [
      f("name", "name"),
      f("enabled", "enabled", "bool"),
      f("bindings", "bindings", "list"),
      f("remote-ip-ranges", "remoteIpRanges", "list"),
      f("auth-mechanisms", "authMechanisms", "list"),
      f("permission-groups", "permissionGroups", "list"),
      f("granted-permissions", "grantedPermissions", "list"),
      f("partner-domains", "partnerDomains", "list"),
      f("tls-client-ca-bundle", "tlsClientCaBundle"),
      f("require-tls", "requireTls", "bool"),
      f("implicit-tls", "implicitTls", "bool"),
      f("banner", "banner"),
      f("fqdn", "fqdn"),
      f("max-message-size", "maxMessageSize", "bytes"),
      f("max-recipients-per-message", "maxRecipientsPerMessage", "int"),
      f("max-protocol-errors", "maxProtocolErrors", "int"),
      f("max-inbound-connection", "maxInboundConnection", "int"),
      f("max-inbound-connection-per-source", "maxInboundConnectionPerSource", "int"),
      f("max-hop-count", "maxHopCount", "int"),
      f("tarpit-interval", "tarpitInterval", "num"),
      f("greeting-delay", "greetingDelay", "num"),
      f("connection-timeout", "connectionTimeout", "num"),
      f("connection-inactivity-timeout", "connectionInactivityTimeout", "num"),
      f("protocol-logging", "protocolLogging"),
      f("comment", "comment"),
    ],
    extra: { relay: { type: "boolean" } },
    columns: ["Identity", "Bindings", "RemoteIPRanges", "Enabled", "Relay", "Auth"],
    row: (r) => ({
      Identity: r.name,
      Bindings: r.bindings,
      RemoteIPRanges: r.remoteIpRanges ?? "(all)",
      Enabled: r.enabled ?? true,
      Relay:
        ((r.grantedPermissions as string[] | undefined) ?? []).includes(RELAY_GRANT) ||
        ((r.permissionGroups as string[] | undefined) ?? []).includes("Users")
          ? "yes"
          : "no",
      Auth: r.authMechanisms,
    }),
    apply: async (_ctx, flags, record) => {
      // --relay is Exchange's Add-ADPermission ... -ExtendedRights ms-Exch-SMTP-Accept-Any-Recipient for anonymous clients.
      if (flags.relay === undefined) return;
      const grants = new Set((record.grantedPermissions as string[] | undefined) ?? []);
      if (flags.relay) grants.add(RELAY_GRANT);
      else grants.delete(RELAY_GRANT);
      record.grantedPermissions = [...grants];
    },
  },
  "accepted-domain": {
    kind: "AcceptedDomain",
    noun: "accepted-domain",
    idFlag: "domain",
    fields: [f("domain", "domain"), f("type", "domainType"), f("comment", "comment")],
    columns: ["DomainName", "DomainType"],
    row: (r) => ({ DomainName: r.domain, DomainType: r.domainType ?? "Authoritative" }),
  },
  user: {
    kind: "SmtpUser",
    noun: "user",
    idFlag: "name",
    fields: [
      f("name", "name"),
      f("enabled", "enabled", "bool"),
      f("allowed-senders", "allowedSenders", "list"),
      f("comment", "comment"),
    ],
    extra: { "reset-password": { type: "boolean" } },
    columns: ["Name", "Enabled", "AllowedSenders"],
    row: (r) => ({
      Name: r.name,
      Enabled: r.enabled ?? true,
      AllowedSenders: r.allowedSenders ?? "(accepted domains)",
    }),
    apply: async (_ctx, flags, record, isNew) => {
      if (isNew || flags["reset-password"])
        record.passwordHash = await hashPassword(
          await readPassword(`Password for ${String(record.name)}: `),
        );
    },
  },
};

function optionsFor(spec: KindSpec): ParseArgsOptionsConfig {
  const opts: ParseArgsOptionsConfig = { ...spec.extra };
  for (const ff of spec.fields) opts[ff.flag] = { type: ff.type === "bool" ? "boolean" : "string" };
  return opts;
}

function convert(ff: FieldFlag, value: string | boolean): unknown {
  if (ff.type === "bool") return value === true;
  const v = String(value);
  switch (ff.type) {
    case "list":
      return list(v);
    case "int":
      return int(ff.flag, v);
    case "num":
      return num(ff.flag, v);
    case "bytes":
      return bytes(ff.flag, v);
    case "addressSpaces":
      return parseAddressSpaces(v);
    default:
      return v;
  }
}

function problemText(spec: KindSpec, p: RecordProblem): string {
  const top = p.field.split(/[.[]/)[0] ?? "";
  const ff = spec.fields.find((x) => x.field === top);
  return ff ? `--${ff.flag} (${p.field}): ${p.message}` : formatProblem(p);
}

/** Validates `record` alone and against every other record; throws UsageError naming the flags. */
async function validate(
  ctx: CliContext,
  spec: KindSpec,
  command: string,
  record: Record<string, unknown>,
): Promise<void> {
  const own = parseRecord(record);
  if (!own.ok)
    throw new UsageError(
      `relay ${command}: ${own.problems.map((p) => problemText(spec, p)).join("; ")}`,
    );
  const idField = RECORD_ID_FIELD[spec.kind];
  const id = String(record[idField]).toLowerCase();
  const others = (await ctx.records.list()).filter((r) => {
    const o = r as Record<string, unknown>;
    return !(o.kind === spec.kind && String(o[idField]).toLowerCase() === id);
  });
  const set = buildRecordSet([...others, record]);
  const label = `${spec.kind} "${String(record[idField])}"`;
  const mine = set.problems.filter((p) => p.record === label);
  if (mine.length > 0)
    throw new UsageError(`relay ${command}: ${mine.map((p) => problemText(spec, p)).join("; ")}`);
}

async function load(ctx: CliContext, spec: KindSpec, id: string): Promise<Record<string, unknown>> {
  const r = await ctx.records.get(spec.kind, id);
  if (r === undefined)
    throw new NotFoundCliError(
      `${spec.kind} "${id}" not found; list them with relay ${spec.noun} get`,
    );
  return r as Record<string, unknown>;
}

export async function recordCommand(
  ctx: CliContext,
  out: Out,
  noun: string,
  verb: string,
  args: string[],
): Promise<void> {
  const spec = SPECS[noun];
  if (!spec) throw new UsageError(`unknown command ${noun}`);
  const command = `${noun} ${verb}`;
  const flags = parseFlags(command, args, optionsFor(spec));
  out.json = flags.json === true;
  const idField = RECORD_ID_FIELD[spec.kind];
  switch (verb) {
    case "get": {
      const id = str(flags, spec.idFlag);
      if (id !== undefined) {
        printRecord(out, await load(ctx, spec, id));
        return;
      }
      const all = (await ctx.records.list()).filter(
        (r) => (r as Record<string, unknown>).kind === spec.kind,
      ) as Record<string, unknown>[];
      printTable(out, all.map(spec.row), spec.columns, all);
      return;
    }
    case "new":
    case "set": {
      const id = requireStr(command, flags, spec.idFlag);
      const isNew = verb === "new";
      let record: Record<string, unknown>;
      if (isNew) {
        if ((await ctx.records.get(spec.kind, id)) !== undefined)
          throw new UsageError(
            `relay ${command}: ${spec.kind} "${id}" already exists; change it with relay ${spec.noun} set`,
          );
        record = { kind: spec.kind };
      } else {
        record = await load(ctx, spec, id);
      }
      for (const ff of spec.fields) {
        const v = flags[ff.flag];
        if (v !== undefined && !(ff.flag === spec.idFlag && !isNew))
          record[ff.field] = convert(ff, v);
      }
      await spec.apply?.(ctx, flags, record, isNew);
      record.updatedAt = new Date().toISOString();
      await validate(ctx, spec, command, record);
      await ctx.records.put(record);
      const saved = parseRecord(record);
      printMessage(
        out,
        `${isNew ? "Created" : "Updated"} ${spec.kind} "${String(record[idField])}".`,
        { ok: true, record: saved.ok ? saved.record : record },
      );
      return;
    }
    case "remove": {
      const id = requireStr(command, flags, spec.idFlag);
      if (!(await ctx.records.delete(spec.kind, id)))
        throw new NotFoundCliError(
          `${spec.kind} "${id}" not found; list them with relay ${spec.noun} get`,
        );
      printMessage(out, `Removed ${spec.kind} "${id}".`, {
        ok: true,
        removed: { kind: spec.kind, id },
      });
      return;
    }
    default:
      throw new UsageError(`relay ${noun}: unknown verb "${verb}"; use new, get, set or remove`);
  }
}

export const RECORD_NOUNS = Object.keys(SPECS);

/** `relay records validate`: every problem with its record, field and fix; exit 1 when there are any. */
export async function validateRecords(ctx: CliContext, out: Out, args: string[]): Promise<number> {
  const flags = parseFlags("records validate", args, {});
  out.json = flags.json === true;
  const set = buildRecordSet(await ctx.records.list());
  const counts = {
    sendConnectors: set.sendConnectors.length,
    receiveConnectors: set.receiveConnectors.length,
    acceptedDomains: set.acceptedDomains.length,
    smtpUsers: set.smtpUsers.length,
  };
  if (out.json) {
    out.write(
      `${JSON.stringify({ ok: set.problems.length === 0, valid: counts, problems: set.problems }, null, 2)}\n`,
    );
  } else {
    for (const p of set.problems) out.write(`${formatProblem(p)}\n`);
    out.write(
      `${set.problems.length} problem(s); valid: ${counts.sendConnectors} send connector(s), ${counts.receiveConnectors} receive connector(s), ${counts.acceptedDomains} accepted domain(s), ${counts.smtpUsers} user(s)\n`,
    );
  }
  return set.problems.length === 0 ? 0 : 1;
}
