// `relay route explain --to addr [--from addr] [--size bytes]`: which send connector would carry it, and why every other lost.

import { NextHopGovernor } from "#core/next-hop/governor.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import { explainRoute, nextHopFor } from "#core/routing/select.ts";
import { explainTlsPolicy } from "#core/tls-policy/explain.ts";
import { unavailableConnectors } from "#core/usecases/next-hop-gate.ts";
import { connectorCircuits } from "#core/usecases/next-hop-views.ts";
import { domainOf } from "#core/usecases/plan.ts";
import { address, bytes, parseFlags, requireStr, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { NotFoundCliError, UsageError } from "../errors.ts";
import { type Out, printTable } from "../output.ts";
import { verbOptions } from "./table.ts";

/** What `relay route explain` answers: the winner with its next hop and TLS policy, and every candidate's verdict. */
export async function routeExplanation(
  ctx: Pick<CliContext, "records" | "hopState">,
  query: { to: string; from: string; size: number; receiveConnector?: string },
) {
  const { to, from, size } = query;
  const set = buildRecordSet(await ctx.records.list());
  const source = query.receiveConnector;
  const receive =
    source === undefined
      ? undefined
      : set.receiveConnectors.find((c) => c.name.toLowerCase() === source.toLowerCase());
  if (source !== undefined && !receive)
    throw new NotFoundCliError(
      `--receive-connector: ReceiveConnector "${source}" not found; list them with relay receive-connector get`,
    );
  const domain = domainOf(to);
  // The circuits deliver keeps: a connector whose every smart host is open loses to the next by cost.
  const hops = await ctx.hopState();
  const governor = hops ? new NextHopGovernor(hops, { now: () => new Date() }) : undefined;
  const unavailable = governor
    ? await unavailableConnectors(governor, set.sendConnectors)
    : new Map<string, string>();
  const { result, candidates: judged } = explainRoute(
    set.sendConnectors,
    {
      recipientDomain: domain,
      sender: from,
      size,
      ...(receive ? { sourceConnector: receive.name } : {}),
    },
    unavailable,
  );
  const candidates = await Promise.all(
    judged.map(async (c) => {
      const connector = set.sendConnectors.find((x) => x.name === c.connector);
      const circuits = governor && connector ? await connectorCircuits(governor, connector) : [];
      return circuits.length ? { ...c, circuits } : c;
    }),
  );
  const selected = result.ok
    ? {
        connector: result.connector.name,
        addressSpace: result.addressSpace,
        ...nextHopFor(result.connector, domain),
        tlsPolicy: explainTlsPolicy(result.connector),
      }
    : null;
  return {
    to,
    domain,
    from,
    size,
    selected,
    ...(result.ok ? {} : { reason: result.reason }),
    candidates,
  };
}

export async function routeCommand(
  ctx: CliContext,
  out: Out,
  verb: string,
  args: string[],
): Promise<number> {
  if (verb !== "explain") throw new UsageError(`relay route: unknown verb "${verb}"; use explain`);
  const command = "route explain";
  const flags = parseFlags(command, args, verbOptions("route", "explain"));
  out.json = flags.json === true;
  const to = address("to", requireStr(command, flags, "to"));
  const from = address("from", str(flags, "from") ?? "", { nullSender: true });
  const size = bytes("size", str(flags, "size") ?? "0");
  const source = str(flags, "receive-connector");
  const answer = await routeExplanation(ctx, {
    to,
    from,
    size,
    ...(source !== undefined ? { receiveConnector: source } : {}),
  });
  const { selected, candidates } = answer;
  if (out.json) {
    out.write(`${JSON.stringify(answer, null, 2)}\n`);
    return 0;
  }
  out.write(
    selected
      ? `${to}: send connector "${selected.connector}" (address space "${selected.addressSpace.domain}" cost ${selected.addressSpace.cost}), next hop ${selected.nextHopKey} ${selected.nextHop.type === "mx" ? "by MX" : "via smart hosts"}\n\n`
      : `${to}: no route: ${answer.reason ?? ""}\n\n`,
  );
  if (selected) out.write(`TLS policy: ${selected.tlsPolicy}\n\n`);
  printTable(
    out,
    candidates.map((c) => ({
      Connector: c.connector,
      Verdict: c.verdict,
      AddressSpace: c.addressSpace ? `${c.addressSpace.domain};${c.addressSpace.cost}` : "",
      Reason: c.reason,
      Circuits:
        "circuits" in c
          ? c.circuits
              .map((h) => `${h.host} ${h.state}${h.until ? ` until ${h.until}` : ""}`)
              .join(", ")
          : "",
    })),
    candidates.some((c) => "circuits" in c)
      ? ["Connector", "Verdict", "AddressSpace", "Circuits", "Reason"]
      : ["Connector", "Verdict", "AddressSpace", "Reason"],
  );
  return 0;
}
