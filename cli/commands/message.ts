// `relay message get|retry|suspend|resume|remove` (Get-Message, Retry-/Suspend-/Resume-/Remove-Message); analyze is in message-analyze.ts.
import type { RecipientRow } from "#core/ports.ts";
import {
  type AdminResult,
  removeMessage,
  resumeMessage,
  retryMessage,
  suspendMessage,
} from "#core/usecases/admin.ts";
import { type MessageView, messageViews, POISON_QUEUE } from "#core/usecases/admin-views.ts";
import { messageIdArg, parseCommand, str } from "../args.ts";
import type { DeadLetter, QueueBackend } from "../backends/backend.ts";
import type { CliContext } from "../context.ts";
import { NotFoundCliError, UsageError } from "../errors.ts";
import { type Out, printMessage, printRecord, printTable } from "../output.ts";
import { currentQueues, findQueue } from "./queue.ts";
import { verbOptions } from "./table.ts";

export const MESSAGE_COLUMNS = [
  "Identity",
  "FromAddress",
  "Status",
  "Size",
  "Subject",
  "Recipients",
  "LastError",
  "RetryCount",
  "NextRetryTime",
];

export const messageRow = (m: MessageView) => ({
  Identity: m.identity,
  FromAddress: m.fromAddress === "" ? "<>" : m.fromAddress,
  Status: m.status,
  Size: m.size,
  Subject: m.subject,
  Recipients: m.recipients,
  LastError: m.lastError,
  RetryCount: m.retryCount,
  NextRetryTime: m.nextRetryTime,
});

/** A dead letter as a Poison queue message, with the poison reason its rows carry. */
async function poisonView(backend: QueueBackend, letter: DeadLetter): Promise<MessageView> {
  const b = letter.body;
  const messageId = b.messageId ?? b.id ?? letter.id;
  const rows = await backend.deps.tracking.listByMessage(messageId);
  const lastError = rows.find((r) => r.lastError)?.lastError;
  const subject = b.subject ?? rows.find((r) => r.subject)?.subject;
  return {
    identity: `${POISON_QUEUE}\\${messageId}`,
    messageId,
    queue: POISON_QUEUE,
    fromAddress: b.mailFrom ?? b.envelope?.mailFrom ?? "",
    status: "Suspended",
    ...(b.size !== undefined ? { size: b.size } : {}),
    ...(subject ? { subject } : {}),
    recipients: b.recipients ?? b.envelope?.rcptTo ?? [],
    ...(lastError ? { lastError } : {}),
    retryCount: b.attempts ?? 0,
    receivedAt: b.receivedAt ?? "",
  };
}

export async function listMessages(
  ctx: CliContext,
  queue: string | undefined,
): Promise<MessageView[]> {
  const backend = await ctx.queues();
  const named = queue === undefined ? undefined : findQueue(await currentQueues(ctx), queue);
  const views =
    named?.identity === POISON_QUEUE ? [] : messageViews(await backend.deps.tracking.listActive());
  if (named === undefined || named.identity === POISON_QUEUE) {
    const letters = await backend.deadLetters();
    if (letters === undefined && named !== undefined)
      throw new Error(
        "the Poison queue cannot be listed with --aws: reading an SQS message takes it from the queue; relay queue get shows its count, relay queue retry redrives it",
      );
    for (const l of letters ?? []) views.push(await poisonView(backend, l));
  }
  return named ? views.filter((v) => v.queue === named.identity) : views;
}

export const rowDetail = (r: RecipientRow) => ({
  Recipient: r.recipient,
  Status: r.status,
  Connector: r.connector,
  NextHop: r.nextHop,
  Attempts: r.attempts,
  LastError: r.lastError,
  NextRetryTime: r.status === "Deferred" ? r.nextRetryAt : undefined,
  TlsPolicy: r.tlsPolicy,
});

async function showMessage(ctx: CliContext, out: Out, messageId: string): Promise<void> {
  const backend = await ctx.queues();
  const rows = await backend.deps.tracking.listByMessage(messageId);
  const first = rows[0];
  if (!first)
    throw new NotFoundCliError(`message ${messageId} not found; list them with relay message get`);
  const summary = {
    messageId,
    fromAddress: first.sender,
    subject: rows.find((r) => r.subject)?.subject,
    size: first.size,
    receivedAt: first.receivedAt,
    internetMessageId: first.internetMessageId,
  };
  if (out.json) {
    out.write(`${JSON.stringify({ ...summary, recipients: rows }, null, 2)}\n`);
    return;
  }
  printRecord(out, {
    Identity: messageId,
    FromAddress: summary.fromAddress === "" ? "<>" : summary.fromAddress,
    Subject: summary.subject,
    Size: summary.size,
    Received: summary.receivedAt,
    MessageId: summary.internetMessageId,
  });
  out.write("\n");
  const details = rows.map(rowDetail);
  printTable(out, details, Object.keys(details[0] ?? {}));
}

const ACTIONS: Record<string, { past: string; run: typeof suspendMessage }> = {
  suspend: { past: "Suspended", run: suspendMessage },
  resume: { past: "Resumed", run: resumeMessage },
  retry: { past: "Retrying", run: retryMessage },
};

function report(out: Out, action: string, past: string, r: AdminResult): number {
  switch (r.kind) {
    case "done": {
      const ndr = r.ndr
        ? r.ndr.sent
          ? `; NDR ${r.ndr.dsnMessageId} queued to the sender`
          : `; no NDR (${r.ndr.reason})`
        : "";
      const note = r.note ? `; ${r.note}` : "";
      printMessage(
        out,
        `${past} message ${r.messageId}: ${r.recipients.join(", ") || "no recipient changed"}${ndr}${note}.`,
        { ok: true, action, ...r },
      );
      return 0;
    }
    case "not-found":
      throw new NotFoundCliError(
        `message ${r.messageId} not found; list them with relay message get`,
      );
    case "nothing-to-do":
      throw new Error(`relay message ${action}: message ${r.messageId}: ${r.reason}`);
    case "unsupported":
      throw new Error(`relay message ${action}: not supported here: ${r.reason}`);
  }
}

export async function messageCommand(
  ctx: CliContext,
  out: Out,
  verb: string,
  args: string[],
): Promise<number> {
  const command = `message ${verb}`;
  if (verb === "analyze") return (await import("./message-analyze.ts")).analyzeCommand(out, args);
  if (verb === "get") {
    const { flags, positionals } = parseCommand(command, args, verbOptions("message", "get"), 1);
    out.json = flags.json === true;
    if (positionals.length > 0) {
      await showMessage(ctx, out, messageIdArg(command, positionals));
      return 0;
    }
    const views = await listMessages(ctx, str(flags, "queue"));
    printTable(out, views.map(messageRow), MESSAGE_COLUMNS, views);
    return 0;
  }
  if (verb === "remove") {
    const { flags, positionals } = parseCommand(command, args, verbOptions("message", "remove"), 1);
    out.json = flags.json === true;
    const id = messageIdArg(command, positionals);
    const backend = await ctx.queues();
    const r = await removeMessage(backend.deps, id, { withNdr: flags["with-ndr"] === true });
    return report(out, "remove", "Removed", r);
  }
  const action = ACTIONS[verb];
  if (!action)
    throw new UsageError(
      `relay message: unknown verb "${verb}"; use get, retry, suspend, resume, remove or analyze`,
    );
  const { flags, positionals } = parseCommand(command, args, {}, 1);
  out.json = flags.json === true;
  const id = messageIdArg(command, positionals);
  const backend = await ctx.queues();
  return report(out, verb, action.past, await action.run(backend.deps, id));
}
