// The `relay` admin CLI: Exchange-style verbs for connectors, domains, users, queues and tracking.

import type { Flags } from "./args.ts";
import { RECORD_NOUNS, recordCommand, validateRecords } from "./commands/records.ts";
import { openContext } from "./context.ts";
import { UsageError } from "./errors.ts";
import { stdout } from "./output.ts";

const HELP = `relay: manage connector-relay like an Exchange admin

  relay send-connector    new|get|set|remove   (New-SendConnector, Get-SendConnector, ...)
  relay receive-connector new|get|set|remove   (New-ReceiveConnector, ...)
  relay accepted-domain   new|get|remove
  relay user              new|get|set|remove   (SMTP AUTH users; password from RELAY_PASSWORD or a prompt)
  relay records validate                       (every record and cross-record rule)

Common flags: --json (machine output), --home DIR (local RELAY_HOME, default ./.relay).
Exit codes: 0 success, 1 failure, 2 bad input (the message names the flag or field), 3 not found.
`;

/** The flags that choose the back end, read before the command parses the rest strictly. */
function contextFlags(args: string[]): Flags {
  const flags: Flags = {};
  args.forEach((a, i) => {
    if (a === "--aws") flags.aws = true;
    else if (a === "--home") flags.home = args[i + 1];
    else if (a.startsWith("--home=")) flags.home = a.slice("--home=".length);
  });
  return flags;
}

export async function main(argv: string[]): Promise<number> {
  const [noun, verb, ...rest] = argv;
  if (noun === undefined || noun === "--help" || noun === "-h" || noun === "help") {
    stdout.write(HELP);
    return noun === undefined ? 2 : 0;
  }
  const args = verb === undefined ? [] : verb.startsWith("-") ? [verb, ...rest] : rest;
  if (
    args.includes("--help") ||
    args.includes("-h") ||
    verb === undefined ||
    verb.startsWith("-")
  ) {
    if (RECORD_NOUNS.includes(noun) || noun === "records") {
      stdout.write(HELP);
      return verb === undefined || verb.startsWith("-") ? 2 : 0;
    }
  }
  const ctx = await openContext(contextFlags(args));
  if (RECORD_NOUNS.includes(noun)) {
    await recordCommand(ctx, stdout, noun, verb ?? "", args);
    return 0;
  }
  if (noun === "records" && verb === "validate") return validateRecords(ctx, stdout, args);
  throw new UsageError(`unknown command "${argv.slice(0, 2).join(" ")}"; see relay --help`);
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
