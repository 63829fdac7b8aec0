// smtp-server configured for one receive connector: its callbacks become core policy calls and a queued submission.
import type { Socket } from "node:net";
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerDataStream,
  type SMTPServerOptions,
  type SMTPServerSession,
} from "smtp-server";
import { parseMailbox } from "#core/address.ts";
import { authenticateUser } from "#core/auth/password.ts";
import { newMessageId } from "#core/ids.ts";
import {
  checkMailFrom,
  checkRcptTo,
  type PolicyContext,
  type PolicyDecision,
} from "#core/receive/policy.ts";
import type { RecordCache } from "#core/records/cache.ts";
import type { ReceiveConnector } from "#core/records/receive-connector.ts";
import type { RecordSet } from "#core/records/record-set.ts";
import { REPLIES, type SmtpReply, SmtpReplyError } from "#core/replies.ts";
import type { ListenerConfig } from "./config.ts";
import { RelayConnection, replyText, type SessionPlan } from "./connection.ts";
import { MessageDataReader } from "./data.ts";
import type { Logger } from "./logger.ts";
import type { ProtocolEvent, ProtocolLogSink } from "./protocol-log.ts";
import { receivedHeader } from "./received.ts";
import { type SubmitPorts, submitMessage } from "./submit.ts";

export interface ConnectorServerDeps {
  records: RecordCache;
  submit: SubmitPorts;
  config: ListenerConfig;
  logger: Logger;
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
  /** Called once the socket is gone (releases connection limits). */
  onClose?: () => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * One instance per receive connector (and one per binding for refusals, with no connector). The
 * instance keeps the connector record it was built with, so a reload that changes the record
 * builds a new instance for new connections while sessions in progress finish under the old one.
 */
export class ConnectorServer extends SMTPServer {
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
    const tls = deps.config.tls;
    const name = connector?.fqdn ?? hostName;
    const startTls =
      !!tls && !!connector && !implicitTls && connector.authMechanisms.includes("Tls");
    const options: SMTPServerOptions = {
      name,
      secure: implicitTls,
      ...(tls ? { key: tls.key, cert: tls.cert } : {}),
      hideSTARTTLS: !startTls,
      disabledCommands: startTls ? [] : ["STARTTLS"],
      authMethods: ["PLAIN", "LOGIN"],
      // Whether a session needs AUTH is the connector's permission model, decided at MAIL FROM.
      authOptional: true,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: true,
      hideREQUIRETLS: true,
      // core refuses non-ASCII local parts: this relay does not offer RFC 6531.
      hideSMTPUTF8: true,
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

  /** Starts an SMTP session on the socket (after the TLS handshake on an implicit-TLS binding). */
  accept(socket: Socket, info: AcceptedSocket): void {
    socket.once("close", () => info.onClose?.());
    if (!this.implicitTls) {
      this.#start(socket, info);
      return;
    }
    this._upgrade(socket, (error, tlsSocket) => {
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
      draining: this.#deps.draining,
      ...this.#protocolLog(info),
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
    this.connections.add(connection);
    this.#live.set(connection.id, connection);
    this.#deps.sessions.add(connection);
    plan.log?.("+", `${this.connector?.name}${info.refusal ? " (refused)" : ""}`);
    connection.on("error", (error: Error) => this._onError(error));
    const limit = this.connector?.connectionTimeout;
    if (limit) {
      // Exchange's ConnectionTimeout: a session may not last forever, however busy it is.
      timer = setTimeout(() => connection.send(421, "4.4.2 Connection timed out"), limit * 1000);
      timer.unref();
    }
    connection.init();
  }

  #protocolLog(info: AcceptedSocket): Pick<SessionPlan, "log"> {
    const sink = this.#deps.protocolLog;
    const connector = this.connector;
    if (!sink || !connector || connector.protocolLogging !== "Verbose") return {};
    let sequence = 0;
    const hostPort = (ip: string, port: number) =>
      ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
    const local = hostPort(info.localIp, info.localPort);
    const remote = hostPort(info.remoteIp, info.remotePort);
    return {
      log: (event: ProtocolEvent, data: string) => {
        try {
          sink.write({
            at: new Date().toISOString(),
            connector: connector.name,
            session: info.id,
            sequence: sequence++,
            local,
            remote,
            event,
            data,
          });
        } catch {
          // A full disk or a closed stream must not take the session down with it.
        }
      },
    };
  }

  #session(session: SMTPServerSession): RelayConnection | undefined {
    return this.#live.get(session.id);
  }

  async #records(): Promise<RecordSet> {
    return this.#deps.records.current ?? this.#deps.records.get();
  }

  #policyContext(conn: RelayConnection, set: RecordSet, session: SMTPServerSession): PolicyContext {
    const user = session.user ? conn.authUser : undefined;
    return {
      connector: conn.plan.connector!,
      session: { authenticated: !!user, ...(user ? { user } : {}), tls: session.secure },
      acceptedDomains: set.acceptedDomains,
    };
  }

  /** Exchange's tarpit: a refused command is answered only after tarpitInterval. */
  async #refuse(conn: RelayConnection, decision: Exclude<PolicyDecision, { ok: true }>) {
    conn.plan.log?.("*", decision.reason);
    if (decision.reply.code >= 500) await sleep((conn.plan.connector?.tarpitInterval ?? 0) * 1000);
    return new SmtpReplyError(decision.reply);
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
      const cipher = session.tlsOptions;
      conn.plan.log?.("*", `TLS ${cipher ? `${cipher.version} ${cipher.name}` : "negotiated"}`);
    }
    void socket;
    callback();
  }

  override onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void {
    void this.#auth(auth, session).then(
      (user) => callback(null, { user }),
      (error: unknown) => callback(error as Error),
    );
  }

  async #auth(auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<string> {
    const conn = this.#session(session);
    if (!conn?.authOffered) throw new SmtpReplyError(REPLIES.authNotEnabled);
    const set = await this.#records();
    const user = await authenticateUser(set.smtpUsers, auth.username ?? "", auth.password ?? "");
    if (user) {
      conn.authUser = user;
      conn.plan.log?.("*", `authenticated as ${user.name} (${auth.method})`);
      return user.name;
    }
    // The attempted name is not logged: users type passwords into it.
    conn.plan.log?.("*", `${auth.method} authentication failed`);
    await sleep((conn.plan.connector?.tarpitInterval ?? 0) * 1000);
    throw new SmtpReplyError(REPLIES.authFailed);
  }

  override onMailFrom(
    address: SMTPServerAddress,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    void this.#decide(session, (ctx) => checkMailFrom(ctx, address.address)).then(callback);
  }

  override onRcptTo(
    address: SMTPServerAddress,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): void {
    void this.#decide(session, (ctx) =>
      checkRcptTo(ctx, address.address, session.envelope.rcptTo.length),
    ).then(callback);
  }

  async #decide(
    session: SMTPServerSession,
    check: (ctx: PolicyContext) => PolicyDecision,
  ): Promise<Error | null> {
    const conn = this.#session(session);
    if (!conn?.plan.connector) return new SmtpReplyError(REPLIES.noReceiveConnector);
    try {
      const decision = check(this.#policyContext(conn, await this.#records(), session));
      return decision.ok ? null : await this.#refuse(conn, decision);
    } catch (error) {
      this.#deps.logger.error("policy check failed", {
        connector: conn.plan.connector.name,
        error,
      });
      return new SmtpReplyError(REPLIES.queueFailed);
    }
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
    const reader = new MessageDataReader({
      maxSize: connector.maxMessageSize,
      maxHopCount: connector.maxHopCount,
    });
    stream.on("data", (chunk: Buffer) => reader.push(chunk));
    // The client went away mid-DATA: nothing was queued, nothing is left to undo.
    stream.once("error", () => conn.plan.log?.("*", "connection lost during DATA"));
    stream.once("end", () => {
      void this.#finishData(conn, connector, session, reader).then(
        (text) => callback(null, text),
        (error: unknown) => callback(error as Error),
      );
    });
  }

  async #finishData(
    conn: RelayConnection,
    connector: ReceiveConnector,
    session: SMTPServerSession,
    reader: MessageDataReader,
  ): Promise<string> {
    const outcome = reader.finish();
    if (!outcome.ok) {
      conn.plan.log?.("*", outcome.reason);
      throw new SmtpReplyError(outcome.reply);
    }
    const receivedAt = new Date();
    const id = newMessageId(receivedAt);
    const cipher = session.tlsOptions;
    const received = receivedHeader({
      helo: session.hostNameAppearsAs || "unknown",
      clientIp: conn.remoteAddress,
      byHost: this.options.name ?? this.#deps.config.hostName,
      protocol: session.transmissionType,
      id,
      ...(cipher ? { tls: { version: cipher.version, cipher: cipher.name } } : {}),
      at: receivedAt,
    });
    const canonical = (a: string) => {
      const p = parseMailbox(a);
      return p.ok ? p.mailbox.address : a;
    };
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
    const result = await submitMessage(this.#deps.submit, {
      id,
      receivedAt,
      envelope: {
        mailFrom: mailFrom === "" ? "" : canonical(mailFrom),
        rcptTo: session.envelope.rcptTo.map((r) => canonical(r.address)),
      },
      body: Buffer.concat([Buffer.from(received, "latin1"), outcome.body]),
      origin: {
        type: "smtp",
        receiveConnector: connector.name,
        clientIp: conn.remoteAddress,
        clientHelo: session.hostNameAppearsAs || "",
        ...(conn.authUser && session.user ? { authUser: conn.authUser.name } : {}),
        tls: session.secure,
      },
      ...(outcome.facts.messageId !== undefined
        ? { internetMessageId: outcome.facts.messageId }
        : {}),
      ...(outcome.facts.subject !== undefined ? { subject: outcome.facts.subject } : {}),
    });
    if (!result.ok) {
      this.#deps.logger.error("could not queue message", {
        connector: connector.name,
        messageId: id,
        stage: result.stage,
        error: result.error,
        ...(result.cleanupError ? { cleanupError: result.cleanupError } : {}),
      });
      conn.plan.log?.("*", `queueing ${id} failed at ${result.stage}`);
      throw new SmtpReplyError(REPLIES.queueFailed);
    }
    conn.plan.log?.("*", `queued ${id} (${result.message.size} bytes)`);
    return replyText(REPLIES.queued(id));
  }
}
