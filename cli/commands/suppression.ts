// `relay suppression get|new|remove`: the suppression list (SES's Get-/Put-/DeleteSuppressedDestination).
import { type SuppressionEntry, suppressionAddress } from "#core/suppression/list.ts";
import { parseFlags, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { NotFoundCliError, UsageError } from "../errors.ts";
import { type Out, printMessage, printRecord, printTable } from "../output.ts";
import { verbOptions } from "./table.ts";

export const SUPPRESSION_COLUMNS = ["Recipient", "Since", "Until", "Source", "Reason"];

const row = (e: SuppressionEntry) => ({
  Recipient: e.recipient,
  Since: e.since,
  Until: e.expiresAt ?? "(until removed)",
  Source: e.source,
  Reason: e.reason,
});

/** The address of --recipient, or a UsageError (exit 2) saying what is wrong with it. */
function recipientOf(value: string | undefined, required: boolean): string | undefined {
  if (value === undefined) {
    if (required) throw new UsageError("--recipient: required, e.g. --recipient ann@fabrikam.com");
    return undefined;
  }
  const parsed = suppressionAddress(value);
  if (!parsed.ok)
    throw new UsageError(
      `--recipient: "${value}" is not an email address (${parsed.reason}); use e.g. ann@fabrikam.com`,
    );
  return parsed.recipient;
}

export async function suppressionCommand(
  ctx: CliContext,
  out: Out,
  verb: string,
  args: string[],
): Promise<number> {
  const flags = parseFlags(`suppression ${verb}`, args, verbOptions("suppression", verb));
  out.json = flags.json === true;
  const recipient = recipientOf(str(flags, "recipient"), verb !== "get");
  const store = await ctx.suppression();
  if (verb === "get") {
    if (recipient !== undefined) {
      const entry = await store.get(recipient);
      if (!entry) throw new NotFoundCliError(`${recipient} is not suppressed`);
      printRecord(out, { ...entry });
      return 0;
    }
    const entries = await store.list();
    printTable(out, entries.map(row), SUPPRESSION_COLUMNS, entries);
    return 0;
  }
  if (verb === "new") {
    const reason = str(flags, "reason")?.trim();
    if (!reason) throw new UsageError('--reason: required, e.g. --reason "asked to stop"');
    const entry: SuppressionEntry = {
      recipient: recipient as string,
      since: new Date().toISOString(),
      source: "admin",
      reason,
    };
    await store.put(entry);
    printMessage(out, `${entry.recipient} is suppressed until removed`, { ok: true, entry });
    return 0;
  }
  if (!(await store.delete(recipient as string)))
    throw new NotFoundCliError(`${recipient} is not suppressed`);
  printMessage(out, `${recipient} is no longer suppressed`, { ok: true, recipient });
  return 0;
}
