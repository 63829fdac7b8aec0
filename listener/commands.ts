// What AUTH, MAIL, RCPT and DATA ask of core for one session: user check, policy decision, message checks and queueing.
import type {
  SMTPServerAuthentication,
  SMTPServerDataStream,
  SMTPServerSession,
} from "smtp-server";
import { authenticateUser } from "#core/auth/password.ts";
import { newMessageId } from "#core/ids.ts";
import type { Metrics } from "#core/metrics.ts";
import type { PolicyContext, PolicyDecision } from "#core/receive/policy.ts";
import type { RecordCache } from "#core/records/cache.ts";
import type { ReceiveConnector } from "#core/records/receive-connector.ts";
import { REPLIES, SmtpReplyError } from "#core/replies.ts";
import { type RelayConnection, replyText } from "./connection.ts";
import { MessageDataReader } from "./data.ts";
import { envelopeExtensions } from "./extensions.ts";
import type { Logger } from "./logger.ts";
import {
  authFailed,
  authSucceeded,
  beginAuth,
  type LimitDeps,
  messageRate,
} from "./submission-limits.ts";
import { type SubmitPorts, submitMessage } from "./submit.ts";
import { buildSubmission } from "./transaction.ts";

export interface CommandDeps extends LimitDeps {
  records: RecordCache;
  submit: SubmitPorts;
  logger: Logger;
  metrics: Metrics;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Exchange's tarpit: a failed AUTH or a refused command is answered only after tarpitInterval. */
const tarpit = (conn: RelayConnection) => sleep((conn.plan.connector?.tarpitInterval ?? 0) * 1000);

const records = (deps: CommandDeps) => deps.records.current ?? deps.records.get();

/** AUTH PLAIN/LOGIN against the SmtpUser records; resolves the user name or rejects with 535 5.7.3. */
export async function authenticate(
  deps: CommandDeps,
  conn: RelayConnection | undefined,
  auth: SMTPServerAuthentication,
): Promise<string> {
  if (!conn?.authOffered) {
    conn?.refuse("AUTH not offered on this connector");
    throw new SmtpReplyError(REPLIES.authNotEnabled);
  }
  const set = await records(deps);
  const username = auth.username ?? "";
  // A locked address or name is refused before the password is looked at: no guess is checked.
  const attempt = await beginAuth(deps, conn, username, set);
  if (!attempt.allowed) {
    const scope = attempt.lock?.scope ?? attempt.exhausted;
    conn.plan.log?.("*", `AUTH refused: ${scope === "ip" ? "address" : "user name"} locked out`);
    conn.refuse(`AUTH lockout (${scope === "ip" ? "address" : "user name"})`);
    await tarpit(conn);
    throw new SmtpReplyError(REPLIES.authLockedOut);
  }
  const user = await authenticateUser(set.smtpUsers, username, auth.password ?? "");
  if (user) {
    await authSucceeded(deps, attempt);
    conn.authUser = user;
    conn.plan.log?.("*", `authenticated as ${user.name} (${auth.method})`);
    return user.name;
  }
  // The attempted name is not logged: users type passwords into it.
  conn.plan.log?.("*", `${auth.method} authentication failed`);
  await authFailed(deps, conn, username, set, attempt);
  conn.refuse(`${auth.method} authentication failed`);
  await tarpit(conn);
  throw new SmtpReplyError(REPLIES.authFailed);
}

/** Runs a core policy check for MAIL or RCPT; resolves the error to answer with, or null. */
export async function decide(
  deps: CommandDeps,
  conn: RelayConnection | undefined,
  session: SMTPServerSession,
  check: (ctx: PolicyContext) => PolicyDecision,
): Promise<Error | null> {
  const connector = conn?.plan.connector;
  if (!conn || !connector) return new SmtpReplyError(REPLIES.noReceiveConnector);
  try {
    const user = session.user ? conn.authUser : undefined;
    const decision = check({
      connector,
      session: {
        authenticated: !!user,
        ...(user ? { user } : {}),
        tls: session.secure,
        clientCertificateVerified: !!conn.partner,
      },
      acceptedDomains: (await records(deps)).acceptedDomains,
    });
    if (decision.ok) return null;
    conn.plan.log?.("*", decision.reason);
    conn.refuse(decision.rule);
    if (decision.reply.code >= 500) await tarpit(conn);
    return new SmtpReplyError(decision.reply);
  } catch (error) {
    // maddy's rule: what we do not understand is temporary.
    deps.logger.error("policy check failed", { connector: connector.name, error });
    conn.refuse("policy check failed");
    return new SmtpReplyError(REPLIES.queueFailed);
  }
}

/**
 * Reads the DATA stream and, once the final dot is in and the message passes its checks, queues
 * it; resolves the 250 text only after the queue confirmed. A client that goes away mid-DATA
 * leaves nothing behind: nothing is written before the stream has ended.
 */
export function receiveData(
  deps: CommandDeps,
  conn: RelayConnection,
  connector: ReceiveConnector,
  session: SMTPServerSession,
  stream: SMTPServerDataStream,
  byHost: string,
): Promise<string> {
  const reader = new MessageDataReader({
    maxSize: connector.maxMessageSize,
    maxHopCount: connector.maxHopCount,
  });
  stream.on("data", (chunk: Buffer) => reader.push(chunk));
  stream.once("error", () => conn.plan.log?.("*", "connection lost during DATA"));
  return new Promise((resolve, reject) => {
    stream.once("end", () => {
      queueMessage(deps, conn, connector, session, reader, byHost).then(resolve, reject);
    });
  });
}

async function queueMessage(
  deps: CommandDeps,
  conn: RelayConnection,
  connector: ReceiveConnector,
  session: SMTPServerSession,
  reader: MessageDataReader,
  byHost: string,
): Promise<string> {
  const outcome = reader.finish();
  if (!outcome.ok) {
    conn.plan.log?.("*", outcome.reason);
    conn.refuse(outcome.reason);
    throw new SmtpReplyError(outcome.reply);
  }
  const user = session.user ? conn.authUser : undefined;
  const overRate = await messageRate(deps, conn, user, true);
  if (overRate) throw new SmtpReplyError(overRate);
  const receivedAt = new Date();
  const id = newMessageId(receivedAt);
  const cipher = session.tlsOptions;
  const result = await submitMessage(
    deps.submit,
    buildSubmission({
      id,
      receivedAt,
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
      rcptTo: session.envelope.rcptTo.map((r) => r.address),
      body: outcome.body,
      prepend: outcome.prepend,
      facts: outcome.facts,
      byHost,
      helo: session.hostNameAppearsAs || "",
      protocol: session.transmissionType,
      extensions: envelopeExtensions(session, headerSection(outcome.body)),
      ...(cipher ? { tls: { version: cipher.version, cipher: cipher.name } } : {}),
      origin: {
        type: "smtp",
        receiveConnector: connector.name,
        clientIp: conn.remoteAddress,
        clientHelo: session.hostNameAppearsAs || "",
        ...(conn.authUser && session.user ? { authUser: conn.authUser.name } : {}),
        tls: session.secure,
      },
    }),
  );
  if (!result.ok) {
    deps.logger.error("could not queue message", {
      connector: connector.name,
      messageId: id,
      stage: result.stage,
      error: result.error,
      ...(result.cleanupError ? { cleanupError: result.cleanupError } : {}),
    });
    conn.plan.log?.("*", `queueing ${id} failed at ${result.stage}`);
    conn.refuse(`queueing failed at ${result.stage}`);
    throw new SmtpReplyError(REPLIES.queueFailed);
  }
  conn.plan.log?.("*", `queued ${id} (${result.message.size} bytes)`);
  deps.metrics.count("Received", { ReceiveConnector: connector.name });
  return replyText(REPLIES.queued(id));
}

/** The header section of a message (up to the first empty line). */
function headerSection(body: Buffer): Buffer {
  const end = body.indexOf("\r\n\r\n");
  return end < 0 ? body : body.subarray(0, end);
}
