// `relay import exchange`: records from the Exchange Management Shell's ConvertTo-Json exports; a dry run unless --apply.
import { basename } from "node:path";
import { parseCommand, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { mapAcceptedDomain, mapTransport } from "../import/domains-transport.ts";
import type { MappedItem } from "../import/model.ts";
import { applyPlan, planImport } from "../import/plan.ts";
import { readExport } from "../import/read.ts";
import { mapReceiveConnector } from "../import/receive.ts";
import { countActions, renderImport } from "../import/render.ts";
import { mapSendConnector } from "../import/send.ts";
import type { Out } from "../output.ts";
import { verbOptions } from "./table.ts";

const FILES = [
  "send-connectors",
  "receive-connectors",
  "accepted-domains",
  "transport-config",
] as const;

/** Maps every object of every file given; transport first, since send connectors take its DNS servers. */
export async function mapExports(
  files: Partial<Record<(typeof FILES)[number], string>>,
): Promise<MappedItem[]> {
  const read = async (file: string | undefined) =>
    file === undefined ? [] : await readExport(file);
  const label = (file: string, i: number, n: number) =>
    n === 1 ? basename(file) : `${basename(file)}[${i}]`;
  const items: MappedItem[] = [];
  let externalDnsServers: string[] | undefined;
  if (files["transport-config"] !== undefined) {
    const objects = await read(files["transport-config"]);
    const t = mapTransport(objects, basename(files["transport-config"]));
    externalDnsServers = t.externalDnsServers;
    items.push(t.item);
  }
  const each = async (
    file: string | undefined,
    map: (o: Record<string, unknown>, source: string) => MappedItem,
  ) => {
    if (file === undefined) return;
    const objects = await read(file);
    objects.forEach((o, i) => {
      items.push(map(o, label(file, i, objects.length)));
    });
  };
  await each(files["accepted-domains"], mapAcceptedDomain);
  await each(files["receive-connectors"], mapReceiveConnector);
  await each(files["send-connectors"], (o, s) =>
    mapSendConnector(o, s, externalDnsServers === undefined ? {} : { externalDnsServers }),
  );
  return items;
}

export async function importCommand(
  ctx: CliContext,
  out: Out,
  verb: string,
  args: string[],
): Promise<number> {
  if (verb !== "exchange")
    throw new UsageError(`relay import: unknown verb "${verb}"; use exchange`);
  const { flags } = parseCommand("import exchange", args, verbOptions("import", "exchange"), 0);
  out.json = flags.json === true;
  const files = Object.fromEntries(
    FILES.flatMap((f) => (str(flags, f) === undefined ? [] : [[f, str(flags, f)]])),
  );
  if (Object.keys(files).length === 0)
    throw new UsageError(
      `relay import exchange: name at least one export: ${FILES.map((f) => `--${f} FILE`).join(", ")} (the README shows the shell commands that write them)`,
    );
  const items = await mapExports(files);
  const plan = await planImport(items, ctx.records, flags.replace === true);
  const apply = flags.apply === true;
  const written = apply ? await applyPlan(plan, ctx.records, new Date()) : 0;
  renderImport(out, plan, apply, written);
  const counts = countActions(plan);
  return counts.conflict + counts.invalid > 0 ? 1 : 0;
}
