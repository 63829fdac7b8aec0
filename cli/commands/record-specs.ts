// What each record noun of the CLI is: its kind, id flag, table columns, extra flags and examples; its field flags come from the schema.
import { hashPassword } from "#core/auth/password.ts";
import { RECORD_SCHEMAS, type RecordKind } from "#core/records/index.ts";
import { type Flags, list, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { readPassword } from "../prompt.ts";
import {
  type CustomField,
  type DeriveOptions,
  deriveFlags,
  type FieldFlag,
} from "../record-flags.ts";
import { unlock, withLockout } from "./lockout.ts";

/** A flag that is not a field: handled by the spec's `apply`. */
export interface ExtraFlag {
  flag: string;
  boolean?: boolean;
  hint: string;
  description: string;
}

export interface KindSpec {
  kind: RecordKind;
  noun: string;
  idFlag: string;
  /** How the schema's fields become flags: names kept from earlier releases, fields set otherwise. */
  derive: DeriveOptions;
  extra?: ExtraFlag[];
  /** Table columns for `get` without an id. */
  columns: string[];
  row: (r: Record<string, unknown>) => Record<string, unknown>;
  /** What `get` with an id prints: the record, with any state kept beside it. */
  show?: (ctx: CliContext, record: Record<string, unknown>) => Promise<Record<string, unknown>>;
  apply?: (
    ctx: CliContext,
    flags: Flags,
    record: Record<string, unknown>,
    isNew: boolean,
  ) => Promise<void>;
  /** One example per verb for --help. */
  examples: { new: string; set: string };
}

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

const ADDRESS_SPACES: CustomField = {
  hint: "list of domain;cost",
  parse: parseAddressSpaces,
  format: (v) => (Array.isArray(v) ? v.map((a) => `${a.domain};${a.cost}`).join(",") : String(v)),
};

const RELAY_GRANT = "AnonymousUsers:AcceptAnyRecipient";

/** The secret that holds a send connector's smart host credentials. */
export const smartHostSecretName = (connector: string) =>
  `send-connector/${connector.toLowerCase().replace(/[^a-z0-9._-]/g, "-")}`;

export const RECORD_SPECS: Record<string, KindSpec> = {
  "send-connector": {
    kind: "SendConnector",
    noun: "send-connector",
    idFlag: "name",
    derive: {
      rename: {
        externalDnsServers: "dns-servers",
        smartHostAuthMechanism: "auth-mechanism",
        smartHostAuthSecret: "auth-secret",
      },
      custom: { addressSpaces: ADDRESS_SPACES },
    },
    extra: [
      {
        flag: "auth-user",
        hint: "text",
        description:
          "smart host user name; the password is read from RELAY_PASSWORD or a prompt and kept as a secret",
      },
    ],
    examples: {
      new: 'relay send-connector new --name "To Internet" --address-spaces "*;1" --usage Internet',
      set: 'relay send-connector set --name "To Internet" --smart-hosts smtp.contoso.com:587 --auth-user relay@contoso.com',
    },
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
        const secretName = smartHostSecretName(String(record.name));
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
    derive: {},
    extra: [
      {
        flag: "relay",
        boolean: true,
        hint: "bool",
        description:
          "let anonymous clients relay (grants AnonymousUsers:AcceptAnyRecipient); --no-relay takes it back",
      },
    ],
    examples: {
      new: 'relay receive-connector new --name "Anon Relay" --bindings 0.0.0.0:25 --remote-ip-ranges 192.168.1.0/24 --relay',
      set: 'relay receive-connector set --name "Anon Relay" --remote-ip-ranges 192.168.1.0/24,10.0.0.5',
    },
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
    derive: { rename: { domainType: "type" } },
    examples: {
      new: "relay accepted-domain new --domain contoso.com",
      set: "relay accepted-domain set --domain contoso.com --type InternalRelay",
    },
    columns: ["DomainName", "DomainType"],
    row: (r) => ({ DomainName: r.domain, DomainType: r.domainType ?? "Authoritative" }),
  },
  user: {
    kind: "SmtpUser",
    noun: "user",
    idFlag: "name",
    derive: { skip: { passwordHash: "read from RELAY_PASSWORD or a prompt, stored as a hash" } },
    extra: [
      {
        flag: "reset-password",
        boolean: true,
        hint: "bool",
        description: "set a new password (from RELAY_PASSWORD or a prompt)",
      },
      {
        flag: "unlock",
        boolean: true,
        hint: "bool",
        description: "end the user's AUTH lockout now (relay user get shows it)",
      },
    ],
    show: withLockout,
    examples: {
      new: "RELAY_PASSWORD=... relay user new --name scanner@contoso.com --allowed-senders scanner@contoso.com",
      set: "relay user set --name scanner@contoso.com --reset-password",
    },
    columns: ["Name", "Enabled", "AllowedSenders"],
    row: (r) => ({
      Name: r.name,
      Enabled: r.enabled ?? true,
      AllowedSenders: r.allowedSenders ?? "(accepted domains)",
    }),
    apply: async (ctx, flags, record, isNew) => {
      if (flags.unlock) await unlock(ctx, String(record.name));
      if (isNew || flags["reset-password"])
        record.passwordHash = await hashPassword(
          await readPassword(`Password for ${String(record.name)}: `),
        );
    },
  },
};

const derived = new Map<string, FieldFlag[]>();

/** The flags of a record kind's fields, derived from its schema. */
export function fieldFlags(spec: KindSpec): FieldFlag[] {
  let flags = derived.get(spec.kind);
  if (!flags) {
    flags = deriveFlags(RECORD_SCHEMAS[spec.kind], spec.derive);
    derived.set(spec.kind, flags);
  }
  return flags;
}

export const RECORD_NOUNS = Object.keys(RECORD_SPECS);
