// The `relay` admin CLI: Exchange-style verbs for connectors, domains, users, queues and tracking.

import { AWS_FLAGS, type Flags } from "./args.ts";
import { recordCommand } from "./commands/records.ts";
import { COMMANDS } from "./commands/table.ts";
import type { CliContext } from "./context.ts";
import { UsageError } from "./errors.ts";
import { nounHelp, topHelp, verbHelp, version } from "./help.ts";
import { type Out, stdout } from "./output.ts";

type Command = (ctx: CliContext, out: Out, verb: string, args: string[]) => Promise<number>;
type PlainCommand = (ctx: CliContext, out: Out, args: string[]) => Promise<number>;

// Each command's module is loaded when used: an admin waits for one command, not for nodemailer
// and every SDK client at every start.

const VERB_COMMANDS: Record<string, () => Promise<Command>> = {
  queue: async () => (await import("./commands/queue.ts")).queueCommand,
  message: async () => (await import("./commands/message.ts")).messageCommand,
  route: async () => (await import("./commands/route.ts")).routeCommand,
  test: async () => (await import("./commands/test-send.ts")).testCommand,
  "transport-config": async () =>
    (await import("./commands/transport-config.ts")).transportConfigCommand,
  "dkim-signing-config": async () => (await import("./commands/dkim.ts")).dkimCommand,
  suppression: async () => (await import("./commands/suppression.ts")).suppressionCommand,
  secret: async () => (await import("./commands/secret.ts")).secretCommand,
  import: async () => (await import("./commands/import.ts")).importCommand,
  records: async () => {
    const { validateRecords } = await import("./commands/records.ts");
    return async (ctx, out, _verb, args) => validateRecords(ctx, out, args);
  },
};

/** Nouns without a verb: everything after the noun is flags and arguments. */
const PLAIN_COMMANDS: Record<string, () => Promise<PlainCommand>> = {
  track: async () => (await import("./commands/track.ts")).trackCommand,
  "resolve-mx": async () => (await import("./commands/resolve-mx.ts")).resolveMxCommand,
  doctor: async () => (await import("./commands/doctor.ts")).doctorCommand,
  console: async () => (await import("./commands/console.ts")).consoleCommand,
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

/** Verbs that write records: the only ones allowed to create a RELAY_HOME that is not there yet. */
const CREATES = new Set(["new", "set", "exchange"]);

export async function main(argv: string[]): Promise<number> {
  const [noun, verb, ...rest] = argv;
  if (noun === undefined || noun === "--help" || noun === "-h" || noun === "help") {
    stdout.write(topHelp());
    return noun === undefined ? 2 : 0;
  }
  if (noun === "--version" || noun === "version") {
    stdout.write(version());
    return 0;
  }
  const doc = COMMANDS[noun];
  if (!doc) throw new UsageError(`unknown command "${noun}"; see relay --help`);
  const plain = "" in doc.verbs;
  const hasVerb = !plain && verb !== undefined && !verb.startsWith("-");
  if (hasVerb && !((verb as string) in doc.verbs))
    throw new UsageError(
      `relay ${noun}: unknown verb "${verb}"; use ${Object.keys(doc.verbs).join(", ")} (relay ${noun} --help)`,
    );
  const args = plain ? argv.slice(1) : hasVerb ? rest : [];
  if (wantsHelp(argv.slice(1)) || (!plain && !hasVerb)) {
    stdout.write(hasVerb ? verbHelp(noun, verb as string) : nounHelp(noun));
    return wantsHelp(argv.slice(1)) ? 0 : 2;
  }
  if (noun === "completion") {
    const { bashCompletion, zshCompletion } = await import("./completion.ts");
    stdout.write(verb === "zsh" ? zshCompletion() : bashCompletion());
    return 0;
  }
  const { openContext } = await import("./context.ts");
  const ctx = await openContext(contextFlags(args), { creates: CREATES.has(verb ?? "") });
  try {
    const plainCommand = PLAIN_COMMANDS[noun];
    if (plainCommand) return await (await plainCommand())(ctx, stdout, args);
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
