// `relay message analyze [FILE]`: a header analyzer for a saved message — route, delays, this relay's hop, DKIM/SPF/DMARC/ARC.
import { open } from "node:fs/promises";
import { ipPort } from "#core/records/common.ts";
import { checkAuthentication } from "../analyze/auth.ts";
import { MAX_MESSAGE_BYTES, MessageInputError, readHeaderSection } from "../analyze/headers.ts";
import { renderAnalysis } from "../analyze/render.ts";
import { analyzeRoute } from "../analyze/route.ts";
import { list, parseCommand, str } from "../args.ts";
import { UsageError } from "../errors.ts";
import type { Out } from "../output.ts";
import { verbOptions } from "./table.ts";

const tooBig = (where: string) =>
  new MessageInputError(
    `${where} is over ${MAX_MESSAGE_BYTES / 1024 ** 2} MB: not a saved message`,
  );

/** Reads at most MAX_MESSAGE_BYTES from a file or standard input ("-" or no FILE). */
export async function readMessage(
  file: string | undefined,
  stdin: NodeJS.ReadableStream,
): Promise<Buffer> {
  if (file !== undefined && file !== "-") {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, "r");
    } catch (error) {
      throw new UsageError(
        `${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    try {
      if ((await handle.stat()).size > MAX_MESSAGE_BYTES) throw tooBig(file);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (size > MAX_MESSAGE_BYTES) throw tooBig("standard input");
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function dnsServers(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const servers = list(value);
  for (const s of servers)
    if (!ipPort.safeParse(s).success)
      throw new UsageError(
        `--dns-servers: "${s}" is not an IP address; use e.g. 1.1.1.1 or 127.0.0.1:5353`,
      );
  return servers;
}

export async function analyzeCommand(out: Out, args: string[]): Promise<number> {
  const { flags, positionals } = parseCommand(
    "message analyze",
    args,
    verbOptions("message", "analyze"),
    1,
  );
  out.json = flags.json === true;
  const servers = dnsServers(str(flags, "dns-servers"));
  const message = await readMessage(positionals[0], process.stdin);
  const section = readHeaderSection(message);
  const route = analyzeRoute(section);
  let auth: Awaited<ReturnType<typeof checkAuthentication>> | undefined;
  if (flags["skip-auth"] !== true) {
    try {
      auth = await checkAuthentication(
        message,
        section,
        route,
        servers ? { dnsServers: servers } : {},
      );
    } catch (error) {
      // The route stands on its own: a message mailauth cannot read still gets it.
      route.notes.push(`authentication checks failed: ${(error as Error).message}`);
    }
  }
  renderAnalysis(out, route, auth, servers?.join(", ") ?? "the system's resolver");
  return 0;
}
