// The SmtpCourier port on nodemailer's SMTP connection: one transaction per call, per-recipient results from the RCPT replies.
import { isIP } from "node:net";
import { type ConnectionOptions, rootCertificates } from "node:tls";
import SMTPConnection, {
  type SMTPConnectionEnvelope,
  type SMTPConnectionOptions,
  type SMTPConnectionSendInfo,
} from "nodemailer/lib/smtp-connection";
import type { RecipientOutcome } from "#core/message.ts";
import type { CourierRequest, CourierTls, SmtpCourier } from "#core/ports.ts";
import {
  type EnvelopeState,
  type SmtpClientError,
  sessionFailure,
  transactionOutcomes,
} from "./outcomes.ts";
import { protocolLogger } from "./protocol-log.ts";

export interface NodemailerCourierOptions {
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
  if (tls.validate === "none") return { rejectUnauthorized: false };
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

export class NodemailerCourier implements SmtpCourier {
  readonly #options: NodemailerCourierOptions;
  readonly #ca: string[] | undefined;

  constructor(options: NodemailerCourierOptions = {}) {
    this.#options = options;
    const extra = options.ca === undefined ? [] : [options.ca].flat();
    this.#ca = extra.length ? [...rootCertificates, ...extra] : undefined;
  }

  async send(request: CourierRequest): Promise<RecipientOutcome[]> {
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
      connectionTimeout: this.#options.connectionTimeoutMs ?? 30_000,
      greetingTimeout: this.#options.greetingTimeoutMs ?? 30_000,
      socketTimeout: this.#options.socketTimeoutMs ?? 300_000,
      socketCloseTimeout: 1000,
      allowInternalNetworkInterfaces: true,
      ...(request.protocolLog
        ? { logger: protocolLogger(request.protocolLog), transactionLog: true }
        : { logger: false }),
    };
    const conn = new SMTPConnection(options);
    const broken = watch(conn);
    const step = <T>(fn: (done: (err: unknown, value?: T) => void) => void): Promise<T> =>
      Promise.race([
        new Promise<T>((resolve, reject) =>
          fn((err, value) => (err ? reject(err) : resolve(value as T))),
        ),
        broken,
      ]);
    request.protocolLog?.("*", `connecting to ${remoteHost}:${request.port}`);
    try {
      await step<void>((done) => conn.connect((err) => done(err)));
      if (request.auth) {
        const { username, password } = request.auth;
        await step<boolean>((done) => conn.login({ user: username, pass: password }, done));
      }
    } catch (err) {
      conn.close();
      return sessionFailure(request.recipients, remoteHost, err as SmtpClientError);
    }
    // nodemailer records accepted and refused recipients on the envelope object it is given.
    const envelope = {
      from: request.mailFrom,
      to: request.recipients,
      size: request.raw.byteLength,
      use8BitMime: request.raw.some((b) => b > 0x7f),
    } as SMTPConnectionEnvelope;
    try {
      const info = await step<SMTPConnectionSendInfo>((done) =>
        conn.send(envelope, Buffer.from(request.raw), done),
      );
      conn.quit();
      return transactionOutcomes(request.recipients, remoteHost, envelope as EnvelopeState, {
        ok: true,
        response: info.response,
      });
    } catch (err) {
      conn.close();
      return transactionOutcomes(request.recipients, remoteHost, envelope as EnvelopeState, {
        ok: false,
        err: err as SmtpClientError,
      });
    }
  }
}
