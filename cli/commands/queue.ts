// `relay queue get` (Get-Queue) and `relay queue retry` (Retry-Queue; the Poison queue is redriven).

import { NextHopGovernor } from "#core/next-hop/governor.ts";
import { retryMessage } from "#core/usecases/admin.ts";
import { redriveDeadLetters } from "#core/usecases/admin-redrive.ts";
import {
  messageViews,
  POISON_QUEUE,
  type QueueView,
  queueViews,
} from "#core/usecases/admin-views.ts";
import { withNextHopState } from "#core/usecases/next-hop-views.ts";
import { parseFlags, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { NotFoundCliError, UsageError } from "../errors.ts";
import { type Out, printMessage, printTable } from "../output.ts";
import { verbOptions } from "./table.ts";

export const QUEUE_COLUMNS = [
  "Identity",
  "DeliveryType",
  "Status",
  "MessageCount",
  "NextHopDomain",
  "LastError",
  "NextRetryTime",
];

export const queueRow = (q: QueueView) => ({
  Identity: q.identity,
  DeliveryType: q.deliveryType,
  Status: q.status,
  MessageCount: q.messageCount,
  NextHopDomain: q.nextHopDomain,
  LastError: q.lastError,
  NextRetryTime: q.nextRetryTime,
});

/** Every queue now, as Get-Queue lists them, with each next hop's throttle and circuits. */
export async function currentQueues(ctx: CliContext): Promise<QueueView[]> {
  const backend = await ctx.queues();
  const set = await backend.deps.records.get();
  const [active, submission, poison] = await Promise.all([
    backend.deps.tracking.listActive(),
    backend.submissionCount(),
    backend.poisonCount(),
  ]);
  const views = queueViews(active, set.sendConnectors, {
    ...(submission !== undefined ? { submission } : {}),
    ...(poison !== undefined ? { poison } : {}),
  });
  const hops = await ctx.hopState();
  if (!hops) return views;
  const governor = new NextHopGovernor(hops, { now: () => new Date() });
  return withNextHopState(views, governor, set.sendConnectors);
}

/** The queue an admin named (identity or next hop, any case), or NotFound with the way to list them. */
export function findQueue(queues: QueueView[], name: string): QueueView {
  const q = queues.find((x) => x.identity.toLowerCase() === name.trim().toLowerCase());
  if (!q)
    throw new NotFoundCliError(
      `queue "${name}" not found; the queues now: ${queues.map((x) => x.identity).join(", ")} (relay queue get)`,
    );
  return q;
}

/** Retry-Queue: every message in Retry in the queue named is tried now (Retry-Message on each). */
export async function retryQueueMessages(
  ctx: CliContext,
  identity: string,
): Promise<{ queue: string; retried: string[]; notRetried: string[] }> {
  const queue = findQueue(await currentQueues(ctx), identity);
  const backend = await ctx.queues();
  const active = await backend.deps.tracking.listActive();
  const deferred = messageViews(active).filter(
    (m) => m.queue === queue.identity && m.status === "Retry",
  );
  const retried: string[] = [];
  const notRetried: string[] = [];
  for (const m of deferred) {
    const r = await retryMessage(backend.deps, m.messageId);
    if (r.kind === "done") retried.push(m.messageId);
    else if (r.kind === "unsupported") throw new Error(`relay queue retry --aws: ${r.reason}`);
    else if (r.kind === "nothing-to-do") notRetried.push(`${m.messageId}: ${r.reason}`);
  }
  return { queue: queue.identity, retried, notRetried };
}

async function retryQueue(ctx: CliContext, out: Out, identity: string): Promise<number> {
  const { queue, retried, notRetried } = await retryQueueMessages(ctx, identity);
  printMessage(
    out,
    `Retrying ${retried.length} message(s) in queue ${queue} now.${notRetried.length ? ` Not retried: ${notRetried.join("; ")}` : ""}`,
    { ok: true, queue, retried, notRetried },
  );
  return 0;
}

export async function queueCommand(
  ctx: CliContext,
  out: Out,
  verb: string,
  args: string[],
): Promise<number> {
  const command = `queue ${verb}`;
  switch (verb) {
    case "get": {
      const flags = parseFlags(command, args, verbOptions("queue", verb));
      out.json = flags.json === true;
      const queues = await currentQueues(ctx);
      const identity = str(flags, "identity");
      const shown = identity === undefined ? queues : [findQueue(queues, identity)];
      printTable(out, shown.map(queueRow), QUEUE_COLUMNS, shown);
      return 0;
    }
    case "retry": {
      const flags = parseFlags(command, args, verbOptions("queue", verb));
      out.json = flags.json === true;
      const identity = str(flags, "identity");
      if (identity !== undefined && identity.toLowerCase() !== POISON_QUEUE.toLowerCase())
        return retryQueue(ctx, out, identity);
      const backend = await ctx.queues();
      const results = await redriveDeadLetters(backend.deps, backend.deadLetterQueues());
      const moved = results.reduce((n, r) => n + r.moved, 0);
      const parts = results.map((r) => `${r.queue} ${r.moved}`).join(", ");
      printMessage(out, `Redrove ${moved} message(s) from the Poison queue (${parts}).`, {
        ok: true,
        redriven: results,
      });
      return 0;
    }
    default:
      throw new UsageError(`relay queue: unknown verb "${verb}"; use get or retry`);
  }
}
