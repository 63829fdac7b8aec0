// `relay test send --server host:port --from --to [--auth-user]`: one SMTP transaction with its transcript, the Telnet test of Exchange's relay troubleshooting articles done properly.
import { hostname } from "node:os";
import { NodemailerCourier } from "#adapters/smtp/courier.ts";
import { newMessageId } from "#core/ids.ts";
import type { RecipientOutcome } from "#core/message.ts";
import { rfc5322Date } from "#core/mime.ts";
import { parseHostPort } from "#core/records/common.ts";
import { formatReply } from "#core/replies.ts";
import { address, int, list, parseFlags, requireStr, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { type Out, printMessage } from "../output.ts";
import { readPassword } from "../prompt.ts";
import { verbOptions } from "./table.ts";

function testMessage(from: string, to: string[], subject: string, helo: string): Uint8Array {
  const now = new Date();
  const id = newMessageId(now);
  return new TextEncoder().encode(
    [
      `From: <${from}>`,
      `To: ${to.map((t) => `<${t}>`).join(", ")}`,
      `Subject: ${subject}`,
      `Date: ${rfc5322Date(now)}`,
      `Message-ID: <${id}@${helo}>`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=us-ascii",
      "",
      `Test message sent by relay test send at ${now.toISOString()}.`,
      "",
    ].join("\r\n"),
  );
}

const outcomeLine = (o: RecipientOutcome) =>
  `${o.recipient}: ${o.status} ${o.remoteHost ? `(${o.remoteHost}) ` : ""}${formatReply(o.reply)}`;

export async function testCommand(
  _ctx: CliContext,
  out: Out,
  verb: string,
  args: string[],
): Promise<number> {
  if (verb !== "send") throw new UsageError(`relay test: unknown verb "${verb}"; use send`);
  const command = "test send";
  const flags = parseFlags(command, args, verbOptions("test", "send"));
  out.json = flags.json === true;
  const serverText = requireStr(command, flags, "server");
  const server = parseHostPort(serverText);
  if (!server)
    throw new UsageError(
      `--server: "${serverText}" is not a host; use "mx1.contoso.com", "10.0.0.5:25" or "[2001:db8::5]:587"`,
    );
  const port = server.port ?? 25;
  const from = address("from", requireStr(command, flags, "from"), { nullSender: true });
  const to = list(requireStr(command, flags, "to")).map((t) => address("to", t));
  const helo = str(flags, "helo") ?? hostname();
  const timeoutMs = int("timeout", str(flags, "timeout") ?? "30") * 1000;
  const user = str(flags, "auth-user");
  const auth = user
    ? { username: user, password: await readPassword(`Password for ${user}: `) }
    : undefined;

  const transcript: { direction: string; line: string }[] = [];
  const courier = new NodemailerCourier({
    connectionTimeoutMs: timeoutMs,
    greetingTimeoutMs: timeoutMs,
    socketTimeoutMs: timeoutMs,
  });
  const outcomes = await courier.send({
    host: server.host,
    port,
    ehloName: helo,
    // STARTTLS whenever offered (465: implicit TLS); the certificate is reported, checked only with --tls-verify.
    tls: {
      mode: flags["require-tls"] ? "required" : "opportunistic",
      validate: flags["tls-verify"] ? "domain" : "none",
    },
    ...(auth ? { auth } : {}),
    mailFrom: from,
    recipients: to,
    raw: testMessage(from, to, str(flags, "subject") ?? "relay test send", helo),
    protocolLog: (direction, line) => {
      transcript.push({ direction, line });
      if (!out.json) out.write(`${direction} ${line}\n`);
    },
  });
  const ok = outcomes.every((o) => o.status === "delivered");
  const results = outcomes.map((o) => ({
    recipient: o.recipient,
    status: o.status,
    ...(o.remoteHost ? { remoteHost: o.remoteHost } : {}),
    reply: formatReply(o.reply),
  }));
  printMessage(
    out,
    `\n${ok ? "Accepted" : "Not accepted"} by ${server.host}:${port}:\n${outcomes.map(outcomeLine).join("\n")}`,
    { ok, server: `${server.host}:${port}`, results, transcript },
  );
  return ok ? 0 : 1;
}
