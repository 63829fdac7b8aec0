// The SmtpCourier port on nodemailer's SMTP connection: one transaction per call, per-recipient results from the RCPT replies.
import { isIP } from "node:net";
import { type ConnectionOptions, rootCertificates, type TLSSocket } from "node:tls";
import SMTPConnection, {
  type SMTPConnectionEnvelope,
  type SMTPConnectionOptions,
  type SMTPConnectionSendInfo,
} from "nodemailer/lib/smtp-connection";
import type { RecipientOutcome } from "#core/message.ts";
import { networkFailure } from "#core/outcome.ts";
import type { CourierRequest, CourierTls, SmtpCourier } from "#core/ports.ts";
import {
  type CachedSession,
  ConnectionCache,
  type ConnectionCacheOptions,
} from "./connection-cache.ts";
import { presentedChain, verifyDane } from "./dane-verify.ts";
import { hopExtensions, planForHop } from "./hop-extensions.ts";
import {
  type EnvelopeState,
  type SmtpClientError,
  sessionFailure,
  transactionOutcomes,
} from "./outcomes.ts";
import { protocolLogger } from "./protocol-log.ts";

export interface NodemailerCourierOptions {
  /** Keep idle connections for the next delivery to the same host (default on); false: one connection per delivery. */
  connectionCache?: boolean | ConnectionCacheOptions;
  /** TCP connect, in ms. Default 30 s. */
  connectionTimeoutMs?: number;
  /** From connect to the 220 greeting (and for the STARTTLS handshake), in ms. Default 30 s. */
  greetingTimeoutMs?: number;
  /** Inactivity during the session, in ms. Default 5 minutes (RFC 5321 §4.5.3.2 asks for more per command; Lambda time is the real bound). */
  socketTimeoutMs?: number;
  /** Extra trust anchors (PEM) added to Node's root store, e.g. a private CA of a smart host. */
  ca?: string | string[];
}

/**
 * TLS options per validation level (Exchange's TlsAuthLevel): "none" encrypts without checking the
 * peer (opportunistic TLS on the Internet would fail against most MX hosts otherwise), "certificate"
 * needs a chain to a trusted root but any name, "domain" also needs the name in `servername`.
 */
function tlsOptions(tls: CourierTls, ca: string[] | undefined): ConnectionOptions {
  // DANE replaces the CA check (verified after the handshake); an MTA-STS audit needs the CA list
  // so that the socket can say whether the chain would have passed.
  if (tls.validate === "dane") return { rejectUnauthorized: false };
  if (tls.validate === "none")
    return { rejectUnauthorized: false, ...(tls.audit && ca ? { ca } : {}) };
  const base: ConnectionOptions = { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
  if (tls.validate === "certificate") return { ...base, checkServerIdentity: () => undefined };
  return base;
}

/** Resolves or rejects with the first error or close of the connection, whichever comes first. */
function watch(conn: SMTPConnection): Promise<never> {
  const broken = new Promise<never>((_, reject) => {
    conn.on("error", reject);
    conn.once("end", () =>
      reject(Object.assign(new Error("Connection closed"), { code: "ECONNECTION" })),
    );
  });
  broken.catch(() => {});
  return broken;
}

/**
 * Rejects with a time-out once `ms` have passed (never when undefined): the whole transaction's
 * bound, since socketTimeout only bounds silence and a peer that trickles bytes never trips it.
 */
function timeLimit(ms: number | undefined): { expired: Promise<never>; clear(): void } {
  if (ms === undefined) return { expired: new Promise<never>(() => {}), clear() {} };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`no reply within the attempt's time limit of ${ms} ms`), {
            code: "ETIMEDOUT",
          }),
        ),
      ms,
    );
  });
  expired.catch(() => {});
  return { expired, clear: () => clearTimeout(timer) };
}

export class NodemailerCourier implements SmtpCourier {
  readonly #options: NodemailerCourierOptions;
  readonly #ca: string[] | undefined;
  readonly #cache: ConnectionCache | undefined;

  constructor(options: NodemailerCourierOptions = {}) {
    this.#options = options;
    const extra = options.ca === undefined ? [] : [options.ca].flat();
    this.#ca = extra.length ? [...rootCertificates, ...extra] : undefined;
    const cache = options.connectionCache ?? true;
    this.#cache = cache === false ? undefined : new ConnectionCache(cache === true ? {} : cache);
  }

  async send(request: CourierRequest): Promise<RecipientOutcome[]> {
    const limit = timeLimit(request.timeLimitMs);
    try {
      return await this.#send(request, limit.expired);
    } finally {
      limit.clear();
    }
  }

  async #send(request: CourierRequest, expired: Promise<never>): Promise<RecipientOutcome[]> {
    const limitMs = request.timeLimitMs;
    // Each timeout is capped by the time the attempt has left (the function's timeout in Lambda).
    const cap = (ms: number) => (limitMs === undefined ? ms : Math.max(1, Math.min(ms, limitMs)));
    const target = request.address ?? request.host;
    const remoteHost =
      request.address && request.address !== request.host
        ? `${request.host}[${request.address}]`
        : request.host;
    const servername = request.tls.servername ?? (isIP(request.host) ? undefined : request.host);
    const options: SMTPConnectionOptions = {
      host: target,
      port: request.port,
      // Port 465 is implicit TLS (RFC 8314); everything else starts in clear and uses STARTTLS.
      secure: request.port === 465,
      name: request.ehloName,
      requireTLS: request.tls.mode === "required",
      opportunisticTLS: request.tls.mode === "opportunistic",
      tls: tlsOptions(request.tls, this.#ca),
      ...(servername ? { servername } : {}),
      connectionTimeout: cap(this.#options.connectionTimeoutMs ?? 30_000),
      greetingTimeout: cap(this.#options.greetingTimeoutMs ?? 30_000),
      socketTimeout: cap(this.#options.socketTimeoutMs ?? 300_000),
      socketCloseTimeout: 1000,
      allowInternalNetworkInterfaces: true,
      ...(request.protocolLog
        ? { logger: protocolLogger(request.protocolLog), transactionLog: true }
        : { logger: false }),
    };
    // Connections are reused only without a protocol log: its lines belong to one delivery.
    const key =
      this.#cache && !request.protocolLog
        ? cacheKey(options, request.auth, request.tls)
        : undefined;
    let session = key ? await this.#reuse(key, expired) : undefined;
    if (!session) {
      const conn = new SMTPConnection(options);
      const fresh: CachedSession = { conn, broken: watch(conn), uses: 0 };
      request.protocolLog?.("*", `connecting to ${remoteHost}:${request.port}`);
      try {
        await step<void>(fresh, (done) => conn.connect((err) => done(err)), expired);
        const refused = checkAfterHandshake(conn, request);
        if (refused) {
          conn.close();
          const failure = networkFailure("tls", refused);
          return request.recipients.map((recipient) => ({
            recipient,
            status: "transient",
            remoteHost,
            ...failure,
          }));
        }
        if (request.auth) {
          const { username, password } = request.auth;
          await step<boolean>(
            fresh,
            (done) => conn.login({ user: username, pass: password }, done),
            expired,
          );
        }
      } catch (err) {
        conn.close();
        return namePolicy(
          sessionFailure(request.recipients, remoteHost, err as SmtpClientError),
          request.tls.policy,
        );
      }
      session = fresh;
    }
    const current = session;
    // What this hop's EHLO allows: the SMTPUTF8, 8BITMIME and DSN decisions (hop-extensions.ts).
    const plan = planForHop(request, hopExtensions(current.conn));
    if (!plan.ok) {
      request.protocolLog?.("*", `not sent: ${plan.why}`);
      if (key && this.#cache) this.#cache.park(key, current);
      else current.conn.quit();
      return request.recipients.map((recipient) => ({
        recipient,
        status: "permanent",
        remoteHost,
        reply: plan.reply,
      }));
    }
    // nodemailer records accepted and refused recipients on the envelope object it is given.
    const envelope = {
      from: request.mailFrom,
      to: request.recipients,
      size: plan.raw.byteLength,
      use8BitMime: plan.use8BitMime,
      ...(plan.dsn ? { dsn: plan.dsn } : {}),
    } as SMTPConnectionEnvelope;
    try {
      const info = await step<SMTPConnectionSendInfo>(
        current,
        (done) => current.conn.send(envelope, plan.raw, done),
        expired,
      );
      current.uses += 1;
      const spent = current.uses >= (request.maxMessagesPerConnection ?? Number.POSITIVE_INFINITY);
      if (key && this.#cache && !spent) this.#cache.park(key, current);
      else current.conn.quit();
      const outcomes = transactionOutcomes(
        request.recipients,
        remoteHost,
        envelope as EnvelopeState,
        { ok: true, response: info.response },
      );
      return plan.dsnPassedOn
        ? outcomes.map((o) => (o.status === "delivered" ? { ...o, dsnPassedOn: true } : o))
        : outcomes;
    } catch (err) {
      current.conn.close();
      return transactionOutcomes(request.recipients, remoteHost, envelope as EnvelopeState, {
        ok: false,
        err: err as SmtpClientError,
      });
    }
  }

  /**
   * An idle connection to the same destination, checked with RSET first: one the server has
   * closed meanwhile fails that check and is dropped, so no transaction ever starts on a dead
   * connection (and none can be sent twice).
   */
  async #reuse(key: string, expired: Promise<never>): Promise<CachedSession | undefined> {
    for (;;) {
      const session = this.#cache?.take(key);
      if (!session) return undefined;
      try {
        await step<boolean>(session, (done) => session.conn.reset(done), expired);
        return session;
      } catch {
        session.conn.close();
      }
    }
  }

  /** Closes the idle connections (at shutdown). */
  close(): void {
    this.#cache?.close();
  }
}

/**
 * Checks nodemailer cannot make: DANE matching of the presented chain (refuses the session) and
 * the MTA-STS testing audit (reports only). Runs after STARTTLS and EHLO, before MAIL FROM.
 */
function checkAfterHandshake(conn: SMTPConnection, request: CourierRequest): string | undefined {
  const { tls } = request;
  if (tls.validate !== "dane" && !tls.audit) return undefined;
  const internals = conn as unknown as { secure: boolean; _socket: TLSSocket };
  const host = tls.servername ?? request.host;
  if (tls.validate === "dane") {
    if (!internals.secure) return `${tls.policy ?? "DANE"}: ${host} did not start TLS`;
    const why = verifyDane(presentedChain(internals._socket), tls.tlsa ?? [], host);
    return why ? `${tls.policy ?? "DANE"}: ${why}` : undefined;
  }
  if (!internals.secure) tls.audit?.(`${host} did not offer STARTTLS`);
  else if (!internals._socket.authorized)
    tls.audit?.(
      `certificate of ${host} not valid: ${String(internals._socket.authorizationError)}`,
    );
  return undefined;
}

/**
 * A TLS failure under a policy says which policy demanded TLS (MTA-STS enforce, DANE) in LastError
 * (the detail); the sender's DSN keeps the standard text.
 */
function namePolicy(outcomes: RecipientOutcome[], policy: string | undefined): RecipientOutcome[] {
  if (!policy) return outcomes;
  const tls = networkFailure("tls", "").reply;
  return outcomes.map((o) =>
    o.status !== "delivered" && o.reply.enhanced === tls.enhanced && o.reply.text === tls.text
      ? { ...o, detail: `${policy}: ${o.detail ?? o.reply.text}` }
      : o,
  );
}

/** Runs one nodemailer step, failing as soon as the connection breaks or the time limit passes. */
function step<T>(
  session: CachedSession,
  fn: (done: (err: unknown, value?: T) => void) => void,
  expired?: Promise<never>,
): Promise<T> {
  return Promise.race([
    new Promise<T>((resolve, reject) =>
      fn((err, value) => (err ? reject(err) : resolve(value as T))),
    ),
    session.broken,
    ...(expired ? [expired] : []),
  ]);
}

/** Connections are shared only between deliveries with the same destination, TLS policy, EHLO name and credentials. */
function cacheKey(
  o: SMTPConnectionOptions,
  auth: CourierRequest["auth"],
  courierTls: CourierTls,
): string | undefined {
  // An audited session reports on its own handshake; reusing one would skip the report.
  if (courierTls.audit) return undefined;
  const tls = o.tls as ConnectionOptions;
  const dane = courierTls.tlsa && JSON.stringify(courierTls.tlsa);
  return JSON.stringify([
    o.host,
    o.port,
    o.secure,
    o.name,
    o.requireTLS,
    o.opportunisticTLS,
    o.servername ?? "",
    tls.rejectUnauthorized,
    typeof tls.checkServerIdentity,
    tls.ca === undefined ? "" : "ca",
    dane ?? "",
    auth?.username ?? "",
    auth?.password ?? "",
  ]);
}
