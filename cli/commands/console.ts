// `relay console [--aws [--stack NAME]]`: the admin console on this machine, through the CLI's own back end; runs until Ctrl-C.
import { serveConsole } from "#console/start.ts";
import { parseFlags, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import type { Out } from "../output.ts";
import { verbOptions } from "./table.ts";

export async function consoleCommand(ctx: CliContext, out: Out, args: string[]): Promise<number> {
  const flags = parseFlags("console", args, verbOptions("console", ""));
  const port = str(flags, "port");
  const address = str(flags, "address");
  const tlsCert = str(flags, "tls-cert");
  const tlsKey = str(flags, "tls-key");
  const runtime =
    ctx.kind === "aws"
      ? `AWS${str(flags, "stack") ? ` (stack ${str(flags, "stack")})` : ""}`
      : "local mode";
  const running = await serveConsole(
    ctx,
    {
      ...(port !== undefined ? { port } : {}),
      ...(address !== undefined ? { address } : {}),
      ...(tlsCert !== undefined ? { tlsCert } : {}),
      ...(tlsKey !== undefined ? { tlsKey } : {}),
    },
    runtime,
    true,
  ).catch((error: Error & { code?: string }) => {
    if (error.code === "EADDRINUSE")
      throw new UsageError(`--port: ${port ?? 2580} is in use; choose another with --port`);
    if (error.name === "ConsoleConfigError") throw new UsageError(error.message);
    throw error;
  });
  out.write(`console: ${running.loginUrl}\n`);
  // Ctrl-C on a terminal reaches this process twice (the terminal and the launcher forwarding it).
  await new Promise<void>((resolve) => {
    process.on("SIGINT", () => resolve());
    process.on("SIGTERM", () => resolve());
  });
  await running.close();
  return 0;
}
