// `relay secret set|remove --name N`: a named secret the records refer to (e.g. a webhook's signing key), kept encrypted.
import { parseFlags, requireStr } from "../args.ts";
import type { CliContext } from "../context.ts";
import { NotFoundCliError, UsageError } from "../errors.ts";
import { type Out, printMessage } from "../output.ts";
import { readPassword } from "../prompt.ts";
import { verbOptions } from "./table.ts";

/** Names as the secret stores take them (Secrets Manager's character set, no leading slash). */
const NAME = /^[A-Za-z0-9_+=.@-][A-Za-z0-9/_+=.@-]{0,254}$/;

export async function secretCommand(
  ctx: CliContext,
  out: Out,
  verb: string,
  args: string[],
): Promise<number> {
  const command = `secret ${verb}`;
  const flags = parseFlags(command, args, verbOptions("secret", verb));
  out.json = flags.json === true;
  const name = requireStr(command, flags, "name");
  if (!NAME.test(name))
    throw new UsageError(
      `--name: "${name}" is not a secret name; use letters, digits and / _ + = . @ -, e.g. webhooks/app`,
    );
  if (verb === "set") {
    // Never from the command line (shell history, ps): RELAY_PASSWORD or a prompt, as for users.
    const value = await readPassword(`Value of secret ${name}: `);
    await ctx.secrets.set(name, value);
    printMessage(out, `secret "${name}" set`, { name, set: true });
    return 0;
  }
  if (!(await ctx.secrets.delete(name))) throw new NotFoundCliError(`no secret "${name}"`);
  printMessage(out, `secret "${name}" removed`, { name, removed: true });
  return 0;
}
