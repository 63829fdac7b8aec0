// `relay dkim-signing-config new|get|set|rotate|remove`: Exchange Online's *-DkimSigningConfig verbs; private keys go only to the secret store.
import { type DkimDnsRecord, dkimDnsRecords } from "#core/dkim/dns-record.ts";
import { dkimSecretName, generateDkimKey, newSelector } from "#core/dkim/keys.ts";
import { domainName } from "#core/records/common.ts";
import {
  DKIM_KEY_TYPES,
  type DkimKey,
  type DkimKeyType,
  type DkimSigningConfig,
  selectorName,
} from "#core/records/dkim-signing-config.ts";
import { formatProblem, parseRecordOf } from "#core/records/index.ts";
import { int, parseFlags, requireStr, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { NotFoundCliError, UsageError } from "../errors.ts";
import { type Out, printMessage, printTable } from "../output.ts";

const KIND = "DkimSigningConfig";
const NOUN = "dkim-signing-config";
const VERBS = ["new", "get", "set", "rotate", "remove"];

const OPTIONS = {
  domain: { type: "string" },
  selector: { type: "string" },
  "key-type": { type: "string" },
  "key-size": { type: "string" },
  enabled: { type: "boolean" },
  comment: { type: "string" },
} as const;

/** `--enabled false` (Exchange's `-Enabled $false`) as well as `--enabled` / `--no-enabled`. */
function normaliseEnabled(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    const next = args[i + 1]?.replace(/^\$/, "").toLowerCase();
    const inline = /^--enabled=(.*)$/.exec(a)?.[1]?.replace(/^\$/, "").toLowerCase();
    const value = a === "--enabled" && (next === "true" || next === "false") ? next : inline;
    if (value === undefined) out.push(a);
    else if (value === "true" || value === "false") {
      out.push(value === "true" ? "--enabled" : "--no-enabled");
      if (a === "--enabled") i++;
    } else throw new UsageError(`relay ${NOUN}: --enabled takes true or false, not "${value}"`);
  }
  return out;
}

function domainFlag(command: string, flags: Record<string, unknown>): string {
  const raw = requireStr(command, flags as never, "domain");
  const parsed = domainName.safeParse(raw);
  if (!parsed.success)
    throw new UsageError(`relay ${command}: --domain "${raw}": ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function keyTypes(command: string, value: string | undefined): DkimKeyType[] {
  const types = (value ?? "rsa").split(/[,+]/).map((t) => t.trim().toLowerCase());
  for (const t of types)
    if (!(DKIM_KEY_TYPES as readonly string[]).includes(t))
      throw new UsageError(
        `relay ${command}: --key-type "${t}": use rsa, ed25519, or rsa,ed25519 to sign with both`,
      );
  return [...new Set(types)] as DkimKeyType[];
}

function keySize(command: string, value: string | undefined): number {
  const n = value === undefined ? 2048 : int("key-size", value);
  if (![1024, 2048, 3072, 4096].includes(n))
    throw new UsageError(
      `relay ${command}: --key-size ${n}: use 1024, 2048 (the default), 3072 or 4096`,
    );
  return n;
}

async function load(ctx: CliContext, domain: string): Promise<DkimSigningConfig> {
  const raw = await ctx.records.get(KIND, domain);
  if (raw === undefined)
    throw new NotFoundCliError(
      `${KIND} "${domain}" not found; create it with relay ${NOUN} new --domain ${domain}`,
    );
  const parsed = parseRecordOf(KIND, raw);
  if (!parsed.ok) throw new UsageError(parsed.problems.map(formatProblem).join("; "));
  return parsed.record;
}

async function save(ctx: CliContext, config: DkimSigningConfig): Promise<DkimSigningConfig> {
  const record = { ...config, updatedAt: new Date().toISOString() };
  const parsed = parseRecordOf(KIND, record);
  if (!parsed.ok) throw new UsageError(parsed.problems.map(formatProblem).join("; "));
  await ctx.records.put(record as unknown as Record<string, unknown>);
  return parsed.record;
}

/** Generates a pair and stores the private half before any record names it. */
async function makeKey(
  ctx: CliContext,
  domain: string,
  keyType: DkimKeyType,
  size: number,
  selector: string,
): Promise<DkimKey> {
  const pair = generateDkimKey(keyType, size);
  const secretName = dkimSecretName(domain, selector);
  await ctx.secrets.set(secretName, pair.privateKeyPem);
  return {
    selector,
    keyType,
    ...(keyType === "rsa" ? { keySize: size } : {}),
    publicKey: pair.publicKey,
    secretName,
    createdAt: new Date().toISOString(),
  };
}

/** What `get --json` shows per domain; `selector` and `keyType` are those of the first signing key. */
export function dkimView(c: DkimSigningConfig) {
  const first = c.keys[0];
  return {
    domain: c.domain,
    selector: first?.selector,
    enabled: c.enabled,
    keyType: c.keys.map((k) => k.keyType).join(","),
    keys: c.keys.map(({ selector, keyType, keySize, secretName, createdAt }) => ({
      selector,
      keyType,
      ...(keySize ? { keySize } : {}),
      secretName,
      ...(createdAt ? { createdAt } : {}),
    })),
    retiredSelectors: c.retiredKeys.map((k) => k.selector),
    dnsRecords: dkimDnsRecords(c),
  };
}

function recordLines(records: DkimDnsRecord[]): string {
  return records
    .map(
      (r) =>
        `  ${r.name}  TXT  ${r.value}${r.status === "retired" ? "   (retired: remove with --selector when mail signed with it has arrived)" : ""}`,
    )
    .join("\n");
}

function printConfig(out: Out, text: string, c: DkimSigningConfig): void {
  const view = dkimView(c);
  if (out.json)
    out.write(`${JSON.stringify({ ok: true, message: text, config: view }, null, 2)}\n`);
  else out.write(`${text}\n${recordLines(view.dnsRecords)}\n`);
}

export async function dkimCommand(
  ctx: CliContext,
  out: Out,
  verb: string,
  args: string[],
): Promise<number> {
  if (!VERBS.includes(verb))
    throw new UsageError(`relay ${NOUN}: unknown verb "${verb}"; use ${VERBS.join(", ")}`);
  const command = `${NOUN} ${verb}`;
  const flags = parseFlags(command, normaliseEnabled(args), OPTIONS);
  out.json = flags.json === true;
  switch (verb) {
    case "get": {
      const only = str(flags, "domain")?.toLowerCase();
      const all = (await ctx.records.list())
        .map((r) => parseRecordOf(KIND, r))
        .flatMap((p) => (p.ok ? [p.record] : []))
        .filter((c) => only === undefined || c.domain === only);
      if (only !== undefined && all.length === 0) await load(ctx, only);
      const views = all.map(dkimView);
      if (out.json) {
        out.write(`${JSON.stringify(views, null, 2)}\n`);
        return 0;
      }
      printTable(
        out,
        views.map((v) => ({
          Domain: v.domain,
          Enabled: v.enabled,
          Selector: v.selector,
          KeyType: v.keyType,
        })),
        ["Domain", "Enabled", "Selector", "KeyType"],
      );
      for (const v of views) out.write(`\n${v.domain}: publish\n${recordLines(v.dnsRecords)}\n`);
      return 0;
    }
    case "new": {
      const domain = domainFlag(command, flags);
      if ((await ctx.records.get(KIND, domain)) !== undefined)
        throw new UsageError(
          `relay ${command}: ${KIND} "${domain}" already exists; see it with relay ${NOUN} get --domain ${domain}, or make new keys with relay ${NOUN} rotate`,
        );
      const types = keyTypes(command, str(flags, "key-type"));
      const size = keySize(command, str(flags, "key-size"));
      const given = str(flags, "selector");
      if (given !== undefined && types.length > 1)
        throw new UsageError(
          `relay ${command}: --selector names one key; leave it out with --key-type ${types.join(",")}`,
        );
      const selector = given === undefined ? undefined : selectorName.safeParse(given);
      if (selector && !selector.success)
        throw new UsageError(
          `relay ${command}: --selector "${given}": ${selector.error.issues[0]?.message}`,
        );
      const keys: DkimKey[] = [];
      for (const t of types) {
        const s =
          selector?.data ??
          newSelector(
            new Date(),
            t,
            keys.map((k) => k.selector),
          );
        keys.push(await makeKey(ctx, domain, t, size, s));
      }
      const config = await save(ctx, {
        kind: KIND,
        domain,
        enabled: flags.enabled !== false,
        keys,
        retiredKeys: [],
        ...(str(flags, "comment") ? { comment: str(flags, "comment") } : {}),
      });
      printConfig(
        out,
        `Created ${KIND} "${domain}"${config.enabled ? "; mail from it is signed from now on" : " (disabled)"}. Publish in DNS:`,
        config,
      );
      return 0;
    }
    case "set": {
      const domain = domainFlag(command, flags);
      const config = await load(ctx, domain);
      if (flags.enabled !== undefined) config.enabled = flags.enabled === true;
      const comment = str(flags, "comment");
      if (comment !== undefined) config.comment = comment;
      const saved = await save(ctx, config);
      printConfig(out, `Updated ${KIND} "${domain}" (enabled: ${saved.enabled}).`, saved);
      return 0;
    }
    case "rotate": {
      // Rotate-DkimSigningConfig: new keys on new selectors sign at once; the old ones stay
      // published (and listed) until removed, so mail already signed with them still verifies.
      const domain = domainFlag(command, flags);
      const config = await load(ctx, domain);
      const taken = [...config.keys, ...config.retiredKeys].map((k) => k.selector);
      const size = str(flags, "key-size");
      const fresh: DkimKey[] = [];
      for (const old of config.keys) {
        const s = newSelector(new Date(), old.keyType, [...taken, ...fresh.map((k) => k.selector)]);
        fresh.push(
          await makeKey(
            ctx,
            domain,
            old.keyType,
            size ? keySize(command, size) : (old.keySize ?? 2048),
            s,
          ),
        );
      }
      const saved = await save(ctx, {
        ...config,
        keys: fresh,
        retiredKeys: [...config.keys, ...config.retiredKeys],
      });
      printConfig(
        out,
        `Rotated ${KIND} "${domain}": ${fresh.map((k) => k.selector).join(", ")} signs now. Publish the new record at once; keep the retired one until mail signed with it has been delivered (a few days), then remove it with relay ${NOUN} remove --domain ${domain} --selector ${config.keys[0]?.selector}.`,
        saved,
      );
      return 0;
    }
    default: {
      // remove: the whole config and every key, or (with --selector) one retired key.
      const domain = domainFlag(command, flags);
      const config = await load(ctx, domain);
      const selector = str(flags, "selector")?.toLowerCase();
      if (selector !== undefined) {
        if (config.keys.some((k) => k.selector === selector))
          throw new UsageError(
            `relay ${command}: selector "${selector}" signs mail for ${domain}; rotate first, or remove the whole config without --selector`,
          );
        const key = config.retiredKeys.find((k) => k.selector === selector);
        if (!key)
          throw new NotFoundCliError(`selector "${selector}" not found in ${KIND} "${domain}"`);
        const saved = await save(ctx, {
          ...config,
          retiredKeys: config.retiredKeys.filter((k) => k !== key),
        });
        await ctx.secrets.delete(key.secretName);
        printConfig(
          out,
          `Removed selector "${selector}" of ${KIND} "${domain}"; delete its TXT record. Still published:`,
          saved,
        );
        return 0;
      }
      await ctx.records.delete(KIND, domain);
      for (const k of [...config.keys, ...config.retiredKeys])
        await ctx.secrets.delete(k.secretName);
      printMessage(
        out,
        `Removed ${KIND} "${domain}"; mail from it is no longer signed. Delete its TXT records once delivered mail no longer needs them.`,
      );
      return 0;
    }
  }
}
