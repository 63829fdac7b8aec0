// One SMTP session: smtp-server's connection with this relay's SMTP mechanics (greeting delay, replies, error limit, AUTH gate).
import type { Socket } from "node:net";
import { authAllowed } from "#core/receive/policy.ts";
import type { ReceiveConnector } from "#core/records/receive-connector.ts";
import type { SmtpUser } from "#core/records/smtp-user.ts";
import { REPLIES, type SmtpReply } from "#core/replies.ts";
import { type ProtocolEvent, redactClientLine } from "./protocol-log.ts";
import { SmtpServerConnection } from "./smtp-server-internals.ts";

/** What the accept path decided for a connection before smtp-server sees it. */
export interface SessionPlan {
  /** The connector serving the session; absent when the session is only told `refusal`. */
  connector?: ReceiveConnector;
  /** Answered instead of the greeting, then the connection closes (421 4.3.2 and kin). */
  refusal?: SmtpReply;
  /** The 220 text (after "220 "). */
  greeting: string;
  /** STARTTLS is on offer (certificate configured, connector lists Tls, not implicit TLS). */
  startTls: boolean;
  /** True while the listener shuts down. */
  draining(): boolean;
  /** Protocol log of this session, when its connector logs verbosely. */
  log?: (event: ProtocolEvent, data: string) => void;
  /** Called once when the session's socket has closed (plain or TLS, whichever it ended on). */
  onEnd?: () => void;
  /** Called for every 4xx/5xx reply of the session (see RelayConnection.refuse). */
  onRefusal?: (refusal: Refusal) => void;
}

/** One refused command or connection, for the listener's log. */
export interface Refusal {
  code: number;
  enhanced: string;
  /** Why: the policy rule, limit or check that refused; "SMTP protocol" for smtp-server's own. */
  rule: string;
  /** The authenticated user, if any. */
  user?: string;
}

/** `5.7.54 Unable to relay…`: the text after the code, which carries its enhanced status code. */
export const replyText = (r: SmtpReply): string => `${r.enhanced} ${r.text}`;
const HAS_ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;

/**
 * Replies that count as protocol errors, as Exchange counts them for MaxProtocolErrors: unknown or
 * malformed commands, bad sequence, and failed AUTH. Policy refusals (550, 530, 452) do not count.
 */
const PROTOCOL_ERROR_CODES = new Set([500, 501, 502, 503, 504, 535]);

export class RelayConnection extends SmtpServerConnection {
  readonly plan: SessionPlan;
  /** The user this session authenticated as (AUTH is only possible under TLS). */
  authUser: SmtpUser | undefined;
  /** The partner domain a verified client certificate earned on this TLS session (Partners group). */
  partner: { domain: string; name: string } | undefined;
  #protocolErrors = 0;
  #rule: string | undefined;

  constructor(
    server: ConstructorParameters<typeof SmtpServerConnection>[0],
    socket: ConstructorParameters<typeof SmtpServerConnection>[1],
    options: ConstructorParameters<typeof SmtpServerConnection>[2],
    plan: SessionPlan,
  ) {
    super(server, socket, options);
    this.plan = plan;
  }

  /**
   * smtp-server waits a fixed 100 ms before the greeting to catch early talkers, which caps how
   * many one-message connections a sender gets through. Here the connector's greetingDelay decides
   * (0 on submission connectors); a client that talks during it is still dropped by smtp-server.
   */
  protected override beforeGreeting(ready: () => void): void {
    const delayMs = (this.plan.connector?.greetingDelay ?? 0) * 1000;
    if (delayMs <= 0 || this.plan.refusal) ready();
    else setTimeout(ready, delayMs).unref();
  }

  /**
   * STARTTLS strips every listener off the plain socket (smtp-server's upgrade), so the end of a
   * session is taken from here, where smtp-server itself learns of it.
   */
  protected override onClosed(): void {
    this.plan.onEnd?.();
  }

  protected override greeting(): string {
    return this.plan.greeting;
  }

  /**
   * Names the rule behind the next 4xx/5xx reply. Every reply leaves through send(), so that is
   * the one place a refusal is logged (once, with this rule), whichever callback decided it.
   */
  refuse(rule: string): void {
    this.#rule = rule;
  }

  #reportRefusal(code: number, enhanced: string | undefined): void {
    const rule = this.#rule ?? "SMTP protocol";
    this.#rule = undefined;
    const user = this.session?.user && this.authUser ? this.authUser.name : undefined;
    this.plan.onRefusal?.({
      code,
      enhanced: enhanced || `${Math.floor(code / 100)}.0.0`,
      rule,
      ...(user ? { user } : {}),
    });
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    let replyCode = code;
    let text = data;
    // Our replies carry their enhanced code already; smtp-server would add a second one.
    let ctx = typeof text === "string" && HAS_ENHANCED.test(text) ? false : context;
    const max = this.plan.connector?.maxProtocolErrors;
    if (max !== undefined && PROTOCOL_ERROR_CODES.has(code) && !this.closing) {
      this.#protocolErrors++;
      this.resetUnknownCommands();
      if (this.#protocolErrors > max) {
        this.plan.log?.("*", `more than maxProtocolErrors ${max} protocol errors`);
        this.refuse(`maxProtocolErrors ${max} exceeded`);
        replyCode = REPLIES.tooManyErrors.code;
        text = replyText(REPLIES.tooManyErrors);
        ctx = false;
      }
    }
    const first = Array.isArray(text) ? text[0] : text;
    const enhanced =
      typeof first === "string" && HAS_ENHANCED.test(first)
        ? first.slice(0, first.indexOf(" "))
        : this.enhancedCodeOf(replyCode, ctx);
    if (replyCode >= 400 && !this.upgrading) this.#reportRefusal(replyCode, enhanced);
    if (this.plan.log && !this.upgrading && !this.closing) {
      const lines = Array.isArray(text) ? text : [text ?? ""];
      lines.forEach((line, i) => {
        const sep = i < lines.length - 1 ? "-" : " ";
        this.plan.log?.(
          ">",
          `${replyCode}${sep}${enhanced ? `${enhanced} ` : ""}${line}`.trimEnd(),
        );
      });
    }
    this.#coalesce(replyCode);
    super.send(replyCode, text, ctx);
    // A greeting, STARTTLS's 220 and the last words go out at once (TLS takes the socket next).
    if (replyCode === 220 || replyCode === 221 || replyCode === 421) this.#flush();
  }

  #corked: Socket | undefined;

  /**
   * Replies written in one event-loop turn leave in one write(2): a pipelining client (RFC 2920)
   * that sent MAIL, RCPT and DATA together gets their replies together. smtp-server writes each
   * reply itself, so the socket is corked on the first and uncorked when the turn ends.
   */
  #coalesce(code: number): void {
    const socket = this.socket;
    if (this.#corked || !socket || this.upgrading || code === 220) return;
    if (socket.destroyed || socket.readyState !== "open") return;
    socket.cork();
    this.#corked = socket;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    const socket = this.#corked;
    this.#corked = undefined;
    if (socket && !socket.destroyed) socket.uncork();
  }

  protected override interceptCommand(line: string, inAuthExchange: boolean): boolean {
    this.plan.log?.("<", redactClientLine(line, inAuthExchange));
    if (this.plan.draining() && this.idle && !this.upgrading && !/^\s*QUIT\b/i.test(line)) {
      this.refuse("shutting down");
      this.send(REPLIES.shuttingDown.code, replyText(REPLIES.shuttingDown));
      return true;
    }
    return false;
  }

  /** AUTH is offered only under TLS, whatever the connector's mechanisms say (authAllowed). */
  override get authOffered(): boolean {
    return this.secure && !!this.plan.connector && authAllowed(this.plan.connector, this.secure);
  }

  /**
   * RFC 4954 §4: AUTH on a cleartext channel gets 538 5.7.11 when STARTTLS would make it possible
   * (530 5.7.0 where the connector requires TLS anyway), otherwise 503 5.5.1.
   */
  protected override refuseAuth(): boolean {
    const connector = this.plan.connector;
    if (!this.authOffered || !connector) {
      let reply: SmtpReply = REPLIES.authNotEnabled;
      let rule = "AUTH not offered on this connector";
      if (!this.secure && connector && this.plan.startTls && authAllowed(connector, true)) {
        reply = connector.requireTls ? REPLIES.startTlsFirst : REPLIES.authRequiresTls;
        rule = "AUTH before STARTTLS";
      }
      this.refuse(rule);
      this.send(reply.code, replyText(reply));
      return true;
    }
    return false;
  }

  /** RFC 1870: a declared SIZE over the connector's maximum is refused at MAIL FROM. */
  protected override refuseDeclaredSize(
    declared: string,
  ): { code: number; message: string } | undefined {
    const max = this.plan.connector?.maxMessageSize;
    if (!/^\d{1,20}$/.test(declared) || max === undefined || Number(declared) <= max)
      return undefined;
    this.plan.log?.("*", `declared SIZE ${declared} exceeds maxMessageSize ${max}`);
    this.refuse(`declared SIZE exceeds maxMessageSize ${max}`);
    return { code: REPLIES.messageTooLarge.code, message: replyText(REPLIES.messageTooLarge) };
  }
}
