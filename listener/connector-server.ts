// smtp-server configured for one receive connector: starts its sessions and hands each command to commands.ts.
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerDataStream,
  SMTPServerOptions,
  SMTPServerSession,
} from "smtp-server";
import { requestsClientCertificate } from "#core/receive/partners.ts";
import {
  checkMailFrom,
  checkRcptTo,
  type PolicyContext,
  startTlsOffered,
} from "#core/receive/policy.ts";
import type { ReceiveConnector } from "#core/records/receive-connector.ts";
import { REPLIES, type SmtpReply, SmtpReplyError } from "#core/replies.ts";
import { authenticate, type CommandDeps, decide, receiveData } from "./commands.ts";
import type { ListenerConfig } from "./config.ts";
import { RelayConnection, replyText, type SessionPlan } from "./connection.ts";
import { type ExtensionRefusal, mailFromRefusal, rcptToRefusal } from "./extensions.ts";
import { judgePartner } from "./partners.ts";
import { type ProtocolLogSink, sessionProtocolLog } from "./protocol-log.ts";
import { SmtpServerBase } from "./smtp-server-internals.ts";
import { messageRate, recipientRate } from "./submission-limits.ts";
import type { ListenerTls } from "./tls.ts";

export interface ConnectorServerDeps extends CommandDeps {
  config: ListenerConfig;
  /** The current certificate and CA bundles; new sessions take them from here. */
  tls: ListenerTls;
  protocolLog?: ProtocolLogSink;
  draining(): boolean;
  /** Every live session of every connector server, for shutdown. */
  sessions: Set<RelayConnection>;
}

/** A connection the accept path hands over: the real client (after PROXY) and what to do with it. */
export interface AcceptedSocket {
  id: string;
  remoteIp: string;
  remotePort: number;
  localIp: string;
  localPort: number;
  /** Answer this and close instead of serving the session. */
  refusal?: SmtpReply;
  /** Why the connection is refused (a limit, no connector, shutting down), for the refusal log. */
  refusalRule?: string;
  /** Called once the socket is gone (releases connection limits). */
  onClose?: () => void;
}

/**
 * One instance per receive connector (and one per binding for refusals, with no connector). The
 * instance keeps the connector record it was built with, so a reload that changes the record
 * builds a new instance for new connections while sessions in progress finish under the old one.
 */
export class ConnectorServer extends SmtpServerBase {
  readonly connector: ReceiveConnector | undefined;
  readonly implicitTls: boolean;
  readonly #deps: ConnectorServerDeps;
  readonly #live = new Map<string, RelayConnection>();
  readonly #startTls: boolean;
  readonly #greeting: string;

  /**
   * `hostName` is the name announced when the connector has no fqdn: the TransportSettings record's
   * hostName, else the listener's configured one.
   */
  constructor(
    connector: ReceiveConnector | undefined,
    implicitTls: boolean,
    deps: ConnectorServerDeps,
    hostName = deps.config.hostName,
  ) {
    const tls = deps.tls.pair;
    const name = connector?.fqdn ?? hostName;
    const startTls = !!tls && !!connector && !implicitTls && startTlsOffered(connector);
    const options: SMTPServerOptions = {
      name,
      secure: implicitTls,
      ...ConnectorServer.#tlsOptions(connector, deps.tls),
      hideSTARTTLS: !startTls,
      disabledCommands: startTls ? [] : ["STARTTLS"],
      authMethods: ["PLAIN", "LOGIN"],
      // Whether a session needs AUTH is the connector's permission model, decided at MAIL FROM.
      authOptional: true,
      hideENHANCEDSTATUSCODES: false,
      // RFC 3461: NOTIFY, RET, ENVID and ORCPT are honoured in the relay's DSNs and passed on.
      hideDSN: false,
      hideREQUIRETLS: true,
      // RFC 6531: UTF-8 addresses are accepted (core/address.ts) and routed by their A-label.
      hideSMTPUTF8: false,
      disableReverseLookup: true,
      logger: false,
      socketTimeout: (connector?.connectionInactivityTimeout ?? 60) * 1000,
      ...(connector ? { size: connector.maxMessageSize } : {}),
    };
    super(options);
    this.connector = connector;
    this.implicitTls = implicitTls;
    this.#deps = deps;
    this.#startTls = startTls;
    this.#greeting = connector?.banner ?? `${name} connector-relay ESMTP ready`;
    this.on("error", (error: Error & { code?: string }) => {
      deps.logger.info("SMTP session error", {
        connector: connector?.name,
        error: error.message,
        code: error.code,
      });
    });
  }

  /**
   * The context options of new TLS sessions: the listener's certificate and, on a connector with
   * partnerDomains, its CA bundle. The bundle replaces the system's trusted CAs (Node's `ca`), so
   * only certificates issued by it verify; without a loaded bundle no certificate is asked for.
   */
  static #tlsOptions(
    connector: ReceiveConnector | undefined,
    tls: ListenerTls,
  ): Partial<SMTPServerOptions> {
    const pair = tls.pair;
    if (!pair) return {};
    const name = connector?.tlsClientCaBundle;
    const ca = connector && requestsClientCertificate(connector) && name && tls.bundle(name);
    // rejectUnauthorized false: a certificate that does not verify leaves the client anonymous.
    return ca
      ? { key: pair.key, cert: pair.cert, ca, requestCert: true, rejectUnauthorized: false }
      : { key: pair.key, cert: pair.cert, ca: undefined, requestCert: false };
  }

  /**
   * Takes up a renewed certificate or CA bundle for sessions that start TLS from now on
   * (smtp-server reads its context at each STARTTLS and implicit-TLS handshake); sessions already
   * in TLS keep theirs.
   */
  refreshTls(): void {
    if (this.#deps.tls.pair)
      this.updateSecureContext(ConnectorServer.#tlsOptions(this.connector, this.#deps.tls));
  }

  /** Starts an SMTP session on the socket (after the TLS handshake on an implicit-TLS binding). */
  accept(socket: Socket, info: AcceptedSocket): void {
    socket.once("close", () => info.onClose?.());
    if (!this.implicitTls) {
      this.#start(socket, info);
      return;
    }
    this.upgradeToTls(socket, (error, tlsSocket) => {
      if (error || !tlsSocket) {
        socket.destroy();
        this.#deps.logger.info("TLS handshake failed", {
          connector: this.connector?.name,
          client: info.remoteIp,
          error: error?.message,
        });
        return;
      }
      this.#start(tlsSocket, info);
    });
  }

  #start(socket: Socket, info: AcceptedSocket): void {
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const plan: SessionPlan = {
      onEnd: () => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        this.#live.delete(connection.id);
        this.#deps.sessions.delete(connection);
        info.onClose?.();
        plan.log?.("-", "");
      },
      ...(this.connector ? { connector: this.connector } : {}),
      ...(info.refusal ? { refusal: info.refusal } : {}),
      greeting: this.#greeting,
      startTls: this.#startTls,
      // Every refusal at info, whatever the connector's protocol logging: "why did my printer get
      // 550 5.7.54?" is answered from the normal log (chasquid's maillog.Rejected).
      onRefusal: (r) =>
        this.#deps.logger.info("refused", {
          code: r.code,
          enhanced: r.enhanced,
          ...(this.connector ? { connector: this.connector.name } : {}),
          client: info.remoteIp,
          ...(r.user ? { user: r.user } : {}),
          rule: r.rule,
          session: info.id,
        }),
      draining: this.#deps.draining,
      ...(this.#deps.protocolLog && this.connector?.protocolLogging === "Verbose"
        ? {
            log: sessionProtocolLog(this.#deps.protocolLog, {
              connector: this.connector.name,
              session: info.id,
              local: { ip: info.localIp, port: info.localPort },
              remote: { ip: info.remoteIp, port: info.remotePort },
            }),
          }
        : {}),
    };
    const connection = new RelayConnection(
      this,
      socket,
      {
        id: info.id,
        remoteAddress: info.remoteIp,
        remotePort: info.remotePort,
        localAddress: info.localIp,
        localPort: info.localPort,
      },
      plan,
    );
    // The rule goes with the reply given instead of the greeting.
    if (info.refusal) connection.refuse(info.refusalRule ?? "connection refused");
    this.connections.add(connection);
    this.#live.set(connection.id, connection);
    this.#deps.sessions.add(connection);
    plan.log?.("+", `${this.connector?.name}${info.refusal ? " (refused)" : ""}`);
    connection.on("error", (error: Error) => this.reportError(error));
    const limit = this.connector?.connectionTimeout;
    if (limit) {
      // Exchange's ConnectionTimeout: a session may not last forever, however busy it is.
      timer = setTimeout(() => {
        connection.refuse(`connectionTimeout ${limit} s`);
        connection.send(REPLIES.connectionTimedOut.code, replyText(REPLIES.connectionTimedOut));
      }, limit * 1000);
      timer.unref();
    }
    connection.init();
  }

  #session(session: SMTPServerSession): RelayConnection | undefined {
    return this.#live.get(session.id);
  }

  override onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    const conn = this.#session(session);
    if (!conn || conn.plan.refusal || !conn.plan.connector) {
      callback(new SmtpReplyError(conn?.plan.refusal ?? REPLIES.noReceiveConnector));
      return;
    }
    callback();
  }

  override onSecure(
    socket: Socket,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    const conn = this.#session(session);
    if (conn) {
      // RFC 3207 §4.2: nothing learnt before the handshake survives it.
      conn.authUser = undefined;
      if (this.connector)
        judgePartner(this.#deps.logger, this.connector, conn, socket as TLSSocket);
      const cipher = session.tlsOptions;
      conn.plan.log?.("*", `TLS ${cipher ? `${cipher.version} ${cipher.name}` : "negotiated"}`);
    }
    callback();
  }

  override onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void {
    authenticate(this.#deps, this.#session(session), auth).then(
      (user) => callback(null, { user }),
      (error: unknown) => callback(error as Error),
    );
  }

  override onMailFrom(
    address: SMTPServerAddress,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    const refused = mailFromRefusal(address, session);
    if (refused) {
      this.#refuse(session, refused, callback);
      return;
    }
    const check = (ctx: PolicyContext) => checkMailFrom(ctx, address.address);
    const conn = this.#session(session);
    void decide(this.#deps, conn, session, check)
      .then((error) => error ?? this.#overLimit(conn, session, messageRate, false))
      .then(callback);
  }

  override onRcptTo(
    address: SMTPServerAddress,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    const refused = rcptToRefusal(address, session);
    if (refused) {
      this.#refuse(session, refused, callback);
      return;
    }
    const check = (ctx: PolicyContext) =>
      checkRcptTo(ctx, address.address, session.envelope.rcptTo.length);
    const conn = this.#session(session);
    void decide(this.#deps, conn, session, check)
      .then((error) => error ?? this.#overLimit(conn, session, recipientRate))
      .then(callback);
  }

  /** A rate limit's refusal for an accepted MAIL or RCPT (421 closes the connection), or null. */
  async #overLimit<A extends unknown[]>(
    conn: RelayConnection | undefined,
    session: SMTPServerSession,
    limit: (
      deps: ConnectorServerDeps,
      conn: RelayConnection,
      user: RelayConnection["authUser"],
      ...rest: A
    ) => Promise<SmtpReply | undefined>,
    ...rest: A
  ): Promise<Error | null> {
    if (!conn) return null;
    const reply = await limit(this.#deps, conn, session.user ? conn.authUser : undefined, ...rest);
    return reply ? new SmtpReplyError(reply) : null;
  }

  /** A parameter refusal: logged once with the reason, the client gets the standard reply. */
  #refuse(
    session: SMTPServerSession,
    refusal: ExtensionRefusal,
    callback: (err?: Error | null) => void,
  ): void {
    this.#session(session)?.plan.log?.("*", refusal.reason);
    callback(new SmtpReplyError(refusal.reply));
  }

  override onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void {
    const conn = this.#session(session);
    const connector = conn?.plan.connector;
    if (!conn || !connector) {
      stream.resume();
      callback(new SmtpReplyError(REPLIES.noReceiveConnector));
      return;
    }
    const byHost = this.options.name ?? this.#deps.config.hostName;
    receiveData(this.#deps, conn, connector, session, stream, byHost).then(
      (text) => callback(null, text),
      (error: unknown) => callback(error as Error),
    );
  }
}
