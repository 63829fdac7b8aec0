// One delivery attempt of a job: SMTP transactions through the targets in order, failing over while the answer is only "not now".
import type { MessageDsn, RecipientDsn } from "../dsn-params.ts";
import type { RecipientOutcome } from "../message.ts";
import { type Failure, networkFailure } from "../outcome.ts";
import type { CourierRequest, CourierTls } from "../ports.ts";
import type { SendConnector } from "../records/send-connector.ts";
import { REMOTE_TRANSIENT, type SmtpReply } from "../replies.ts";
import { MIN_ATTEMPT_MS, msLeft } from "./deadline.ts";
import type { DeliverDeps } from "./deps.ts";
import type { HostGuard } from "./next-hop-gate.ts";
import type { Target } from "./targets.ts";

/**
 * Exchange's TLS settings as a courier policy. Without requireTls TLS is opportunistic and
 * unauthenticated (RFC 7435: better than clear text, never a reason to fail); BasicAuthRequireTls
 * makes TLS required because credentials must not cross in clear.
 */
export function courierTls(c: SendConnector): CourierTls {
  if (!c.requireTls)
    return {
      mode: c.smartHostAuthMechanism === "BasicAuthRequireTls" ? "required" : "opportunistic",
      validate: "none",
    };
  if (c.tlsAuthLevel === "CertificateValidation")
    return { mode: "required", validate: "certificate" };
  if (c.tlsAuthLevel === "DomainValidation") {
    const tls: CourierTls = { mode: "required", validate: "domain" };
    if (c.tlsDomain) tls.servername = c.tlsDomain;
    return tls;
  }
  return { mode: "required", validate: "none" };
}

export type Credentials =
  | { ok: true; auth?: { username: string; password: string } }
  | { ok: false; reply: SmtpReply; detail: string };

/** Smart host credentials from the secret named on the connector: JSON {"username","password"}. */
export async function smartHostCredentials(
  deps: DeliverDeps,
  c: SendConnector,
): Promise<Credentials> {
  if (c.smartHostAuthMechanism === "None" || !c.smartHostAuthSecret) return { ok: true };
  try {
    const value = JSON.parse(await deps.secrets.get(c.smartHostAuthSecret)) as {
      username?: unknown;
      password?: unknown;
    };
    if (typeof value.username !== "string" || typeof value.password !== "string")
      throw new Error("the secret needs string fields username and password");
    return { ok: true, auth: { username: value.username, password: value.password } };
  } catch (error) {
    // Our configuration, not the message: transient, so mail waits until the secret is fixed.
    // The sender's DSN says only that authentication failed (RFC 4954's 4.7.0 wording); the
    // secret's name and the cause are for the admin.
    const why = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      reply: REMOTE_TRANSIENT.smartHostCredentials,
      detail: `Smart host credentials "${c.smartHostAuthSecret}" unavailable: ${why}`,
    };
  }
}

export interface AttemptInput {
  connector: SendConnector;
  /** In order; a target's own `tls` (from the MX TLS policy) overrides the connector's. */
  targets: (Target & { tls?: CourierTls; tlsPolicy?: string })[];
  ehloName: string;
  mailFrom: string;
  recipients: string[];
  raw: Uint8Array;
  auth?: { username: string; password: string };
  /** Prefix of protocol log session ids. */
  sessionPrefix: string;
  /** When the attempt must be over (see attemptWindow); no new connection starts too close to it. */
  deadline?: Date;
  smtpUtf8?: boolean;
  dsn?: MessageDsn;
  /** NOTIFY and ORCPT by lower-cased recipient. */
  rcptDsn?: Record<string, RecipientDsn>;
  /** Circuits per host: an open one is skipped without connecting (next-hop-gate.ts). */
  guard?: HostGuard;
  /** SmtpMaxMessagesPerConnection: a cached connection is closed after this many messages. */
  maxMessagesPerConnection?: number;
  /**
   * Called with each transaction's outcomes the moment the courier returns them, before anything
   * else (circuit bookkeeping, the next target, the next group): deliver records its delivered
   * recipients there, so the window between a remote 250 and its record stays as short as it can.
   */
  onSent?: (outcomes: RecipientOutcome[]) => Promise<void>;
}

/**
 * Recipients that share NOTIFY and ORCPT, with the parameters to pass: an SMTP client gives each
 * RCPT its own, but nodemailer takes one set per transaction, so recipients whose parameters
 * differ go in separate transactions (over the same cached connection).
 */
function dsnGroups(
  input: AttemptInput,
): { recipients: string[]; dsn?: MessageDsn & RecipientDsn }[] {
  if (!input.dsn && !input.rcptDsn) return [{ recipients: input.recipients }];
  const groups = new Map<string, { recipients: string[]; dsn: MessageDsn & RecipientDsn }>();
  for (const r of input.recipients) {
    const own = input.rcptDsn?.[r.toLowerCase()] ?? {};
    const key = JSON.stringify([own.notify ?? null, own.orcpt ?? null]);
    const g = groups.get(key) ?? { recipients: [], dsn: { ...input.dsn, ...own } };
    g.recipients.push(r);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/**
 * Tries targets in order with the recipients still open. It moves on only when nothing was decided
 * on a host (every recipient transient: connection failure, 4xx greeting/MAIL, TLS failure): RFC
 * 5321 §5.1 says to try the next MX then, and a smart host that is down fails over the same way. A
 * host that delivered or refused some recipients is working; its 4xx for the others stand.
 */
export async function attemptDelivery(
  deps: DeliverDeps,
  input: AttemptInput,
): Promise<RecipientOutcome[]> {
  const groups = dsnGroups(input);
  if (groups.length === 1 && groups[0]) {
    const { recipients, dsn } = groups[0];
    return attemptGroup(deps, input, recipients, dsn);
  }
  const results = new Map<string, RecipientOutcome>();
  for (const group of groups)
    for (const o of await attemptGroup(deps, input, group.recipients, group.dsn))
      results.set(o.recipient.toLowerCase(), o);
  return input.recipients.flatMap((r) => results.get(r.toLowerCase()) ?? []);
}

async function attemptGroup(
  deps: DeliverDeps,
  input: AttemptInput,
  recipients: string[],
  dsn: (MessageDsn & RecipientDsn) | undefined,
): Promise<RecipientOutcome[]> {
  const results = new Map<string, RecipientOutcome>();
  let open = recipients;
  const max = deps.maxConnectionsPerAttempt ?? 10;
  const connectorTls = courierTls(input.connector);
  const verbose = input.connector.protocolLogging === "Verbose" && deps.protocolLog;
  let none: Failure = networkFailure("connect", "no server to connect to");
  for (const [i, target] of input.targets.slice(0, max).entries()) {
    const timeLimitMs = msLeft(input.deadline, deps.clock.now());
    if (timeLimitMs !== undefined && timeLimitMs < MIN_ATTEMPT_MS) {
      if (i === 0) none = networkFailure("timeout", "no time left in this invocation");
      break;
    }
    const skip = await input.guard?.before(target);
    if (skip) {
      none = networkFailure("connect", skip);
      continue;
    }
    const session = `${input.sessionPrefix}.${i + 1}`;
    const remote = `${target.host}[${target.address}]:${target.port}`;
    const request: CourierRequest = {
      host: target.host,
      address: target.address,
      port: target.port,
      ehloName: input.ehloName,
      tls: target.tls ?? connectorTls,
      mailFrom: input.mailFrom,
      recipients: open,
      raw: input.raw,
      ...(input.smtpUtf8 ? { smtpUtf8: true } : {}),
      ...(dsn ? { dsn } : {}),
    };
    if (input.auth) request.auth = input.auth;
    if (input.maxMessagesPerConnection)
      request.maxMessagesPerConnection = input.maxMessagesPerConnection;
    if (timeLimitMs !== undefined) request.timeLimitMs = timeLimitMs;
    if (verbose)
      request.protocolLog = (direction, line) =>
        verbose.write({
          at: deps.clock.now(),
          connector: input.connector.name,
          session,
          remote,
          direction,
          line,
        });
    const sent = await deps.courier.send(request);
    const outcomes = target.tlsPolicy
      ? sent.map((o) => ({ ...o, tlsPolicy: target.tlsPolicy }))
      : sent;
    await input.onSent?.(outcomes);
    await input.guard?.after(target, sent);
    for (const o of outcomes) results.set(o.recipient.toLowerCase(), o);
    const decided = outcomes.some((o) => o.status !== "transient");
    open = outcomes.filter((o) => o.status === "transient").map((o) => o.recipient);
    if (open.length === 0 || decided) break;
  }
  return recipients.map(
    (r) => results.get(r.toLowerCase()) ?? { recipient: r, status: "transient", ...none },
  );
}
