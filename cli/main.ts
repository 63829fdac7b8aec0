// The `relay` admin CLI: Exchange-style verbs for connectors, domains, users, queues and tracking.

import { AWS_FLAGS, type Flags } from "./args.ts";
import { RECORD_NOUNS, recordCommand } from "./commands/records.ts";
import type { CliContext } from "./context.ts";
import { UsageError } from "./errors.ts";
import { type Out, stdout } from "./output.ts";

const HELP = `relay: manage connector-relay like an Exchange admin

  relay send-connector    new|get|set|remove   (New-SendConnector, Get-SendConnector, ...)
  relay receive-connector new|get|set|remove   (New-ReceiveConnector, ...)
  relay accepted-domain   new|get|remove
  relay user              new|get|set|remove   (SMTP AUTH users; password from RELAY_PASSWORD or a prompt)
  relay records validate                       (every record and cross-record rule)
  relay dkim-signing-config new|get|set|rotate|remove --domain D
                                               (New-, Get-, Set-, Rotate-DkimSigningConfig; prints the DNS records)

  relay queue get [--identity Q]               (Get-Queue: per next hop, Submission and Poison)
  relay queue retry [--identity Q]             (redrive the Poison queue; with a next hop: retry its messages now)
  relay message get [--queue Q] [ID]           (Get-Message; with ID: every recipient of that message)
  relay message retry|suspend|resume ID        (Retry-, Suspend-, Resume-Message)
  relay message remove [--with-ndr] ID         (Remove-Message)
  relay track --message-id ID | --sender A | --recipient A [--event-id E]
                                               (Get-MessageTrackingLog)
  relay route explain --to A [--from A] [--size 10MB] [--receive-connector NAME]
                                               (which send connector, and why every other lost)
  relay test send --server host[:port] --from A --to A[,A] [--auth-user U] [--require-tls]
                                               (one SMTP transaction with its transcript)
  relay resolve-mx DOMAIN [--dns-servers ip[:port],...]
                                               (MX hosts in preference order with addresses)

Common flags: --json (machine output), --home DIR (local RELAY_HOME, default ./.relay),
  --aws with --region, --record-table, --tracking-table, --submission-queue-url,
  --delivery-queue-url, --submission-dlq-url, --delivery-dlq-url, --body-bucket, --secret-prefix
  (or RELAY_RECORD_TABLE, RELAY_TRACKING_TABLE, ... in the environment; credentials from the AWS chain).
Exit codes: 0 success, 1 failure, 2 bad input (the message names the flag or field), 3 not found.
Every verb and its --json shape: docs/cli.md
`;

type Command = (ctx: CliContext, out: Out, verb: string, args: string[]) => Promise<number>;
type PlainCommand = (ctx: CliContext, out: Out, args: string[]) => Promise<number>;

// Each command's module is loaded when used: an admin waits for one command, not for nodemailer
// and every SDK client at every start.

const VERB_COMMANDS: Record<string, () => Promise<Command>> = {
  queue: async () => (await import("./commands/queue.ts")).queueCommand,
  message: async () => (await import("./commands/message.ts")).messageCommand,
  route: async () => (await import("./commands/route.ts")).routeCommand,
  test: async () => (await import("./commands/test-send.ts")).testCommand,
  "dkim-signing-config": async () => (await import("./commands/dkim.ts")).dkimCommand,
  records: async () => {
    const { validateRecords } = await import("./commands/records.ts");
    return async (ctx, out, verb, args) => {
      if (verb !== "validate")
        throw new UsageError(`relay records: unknown verb "${verb}"; use validate`);
      return validateRecords(ctx, out, args);
    };
  },
};

/** Nouns without a verb: everything after the noun is flags and arguments. */
const PLAIN_COMMANDS: Record<string, () => Promise<PlainCommand>> = {
  track: async () => (await import("./commands/track.ts")).trackCommand,
  "resolve-mx": async () => (await import("./commands/resolve-mx.ts")).resolveMxCommand,
};

const CONTEXT_STRING_FLAGS = ["home", "stack", ...Object.keys(AWS_FLAGS)];

/** The flags that choose the back end, read before the command parses the rest strictly. */
function contextFlags(args: string[]): Flags {
  const flags: Flags = {};
  args.forEach((a, i) => {
    if (a === "--aws") flags.aws = true;
    for (const name of CONTEXT_STRING_FLAGS) {
      if (a === `--${name}`) flags[name] = args[i + 1];
      else if (a.startsWith(`--${name}=`)) flags[name] = a.slice(name.length + 3);
    }
  });
  return flags;
}

const wantsHelp = (args: string[]) => args.includes("--help") || args.includes("-h");

export async function main(argv: string[]): Promise<number> {
  const [noun, verb, ...rest] = argv;
  if (noun === undefined || noun === "--help" || noun === "-h" || noun === "help") {
    stdout.write(HELP);
    return noun === undefined ? 2 : 0;
  }
  const plain = PLAIN_COMMANDS[noun];
  const verbed = RECORD_NOUNS.includes(noun) || noun in VERB_COMMANDS;
  if (!plain && !verbed) throw new UsageError(`unknown command "${noun}"; see relay --help`);
  const args = plain ? argv.slice(1) : verb === undefined || verb.startsWith("-") ? [] : rest;
  if (wantsHelp(argv.slice(1)) || (!plain && (verb === undefined || verb.startsWith("-")))) {
    stdout.write(HELP);
    return wantsHelp(argv.slice(1)) ? 0 : 2;
  }
  const { openContext } = await import("./context.ts");
  const ctx = await openContext(contextFlags(args));
  try {
    if (plain) return await (await plain())(ctx, stdout, args);
    const command = VERB_COMMANDS[noun];
    if (command) return await (await command())(ctx, stdout, verb ?? "", args);
    await recordCommand(ctx, stdout, noun, verb ?? "", args);
    return 0;
  } finally {
    ctx.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const code = (error as { exitCode?: number }).exitCode ?? 1;
  if (stdout.json)
    process.stdout.write(`${JSON.stringify({ ok: false, error: (error as Error).message })}\n`);
  process.stderr.write(`relay: ${(error as Error).message}\n`);
  process.exitCode = code;
}
