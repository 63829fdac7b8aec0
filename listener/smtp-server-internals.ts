// smtp-server's undocumented members this listener relies on, in one place; test/integration/smtp-server-internals.test.ts fails when a pinned upgrade changes one.
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { SMTPServer } from "smtp-server";
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";

/**
 * smtp-server's public API is four callbacks and an Error with `responseCode`; it has no way to
 * change its SMTP mechanics. The listener needs more (a greeting delay per connector, replies that
 * carry their own enhanced code, Exchange's MaxProtocolErrors, AUTH only under TLS, SIZE refused at
 * MAIL FROM, a shutdown that lets transactions finish), so these classes reach into the members
 * listed here — and only these classes do. The versions are pinned in package.json; the test
 * checks every member on a real session over loopback.
 */
export const SMTP_SERVER_INTERNALS = {
  connection: {
    overridden: [
      "init",
      "_onClose",
      "_sendGreeting",
      "send",
      "_onCommand",
      "_isSupported",
      "handler_EHLO",
      "handler_AUTH",
      "_validateMailParams",
    ],
    called: ["_setListeners", "connectionReady", "_getEnhancedStatusCode"],
    /** State read (and `_unrecognizedCommands` reset), with the type each must have. */
    read: {
      _ready: "boolean",
      _handlerPending: "boolean",
      _closing: "boolean",
      _upgrading: "boolean",
      _unrecognizedCommands: "number",
      _dataStream: "false or a stream",
      _nextHandler: "false or a function",
      _socket: "the socket",
    },
  },
  server: { called: ["_upgrade", "_onError"] },
} as const;

type MailParams = Parameters<SMTPConnection["_validateMailParams"]>[0];
type MailParamsError = ReturnType<SMTPConnection["_validateMailParams"]>;

/** smtp-server's session with named hooks in place of its private members. */
export class SmtpServerConnection extends SMTPConnection {
  #advertising = false;

  /** Called when smtp-server would greet; call `ready` to greet (smtp-server waits 100 ms). */
  protected beforeGreeting(ready: () => void): void {
    ready();
  }

  /** The 220 text (after "220 "); undefined keeps smtp-server's own. */
  protected greeting(): string | undefined {
    return undefined;
  }

  /** The session's socket has closed (plain or TLS: STARTTLS strips the plain socket's listeners). */
  protected onClosed(): void {}

  /** Sees every command line first; true when it answered the line itself. */
  protected interceptCommand(_line: string, _inAuthExchange: boolean): boolean {
    return false;
  }

  /** Whether EHLO lists AUTH. */
  get authOffered(): boolean {
    return true;
  }

  /** Answers an AUTH command itself when it returns true (smtp-server's AUTH is skipped). */
  protected refuseAuth(): boolean {
    return false;
  }

  /** MAIL FROM's SIZE= value (RFC 1870) as given; a reply refuses the command. */
  protected refuseDeclaredSize(_declared: string): { code: number; message: string } | undefined {
    return undefined;
  }

  /** True when the session holds no transaction a shutdown should let finish. */
  get idle(): boolean {
    return (
      this._ready &&
      !this._handlerPending &&
      !this._dataStream &&
      this._nextHandler === false &&
      !this.session.envelope?.mailFrom
    );
  }

  /** smtp-server is closing the session (after QUIT, an error or a timeout). */
  protected get closing(): boolean {
    return this._closing;
  }

  /** STARTTLS is in progress: replies then belong to the handshake, not to a command. */
  protected get upgrading(): boolean {
    return this._upgrading;
  }

  /** The session's current socket (the TLS one after STARTTLS), for corking replies together. */
  protected get socket(): Socket | undefined {
    return this._socket as Socket | undefined;
  }

  /** smtp-server's own fixed limit of 10 unknown commands gives way to the caller's. */
  protected resetUnknownCommands(): void {
    this._unrecognizedCommands = 0;
  }

  /** The enhanced code smtp-server would add to a reply without one. */
  protected enhancedCodeOf(code: number, context: string | false | undefined): string {
    return this._getEnhancedStatusCode(code, context);
  }

  /** Cuts the connection without a reply (a client that ignored the 421 at shutdown). */
  destroySocket(): void {
    this._socket.destroy();
  }

  override init(): void {
    this._setListeners(() => this.beforeGreeting(() => this.connectionReady()));
  }

  override _onClose(): void {
    super._onClose();
    this.onClosed();
  }

  override _sendGreeting(): void {
    const text = this.greeting();
    if (text === undefined) super._sendGreeting();
    else this.send(220, text, false);
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    const line = (command ?? "").toString();
    if (this.interceptCommand(line, this._nextHandler !== false)) return;
    super._onCommand(command, callback);
  }

  override _isSupported(command: string): boolean {
    if (this.#advertising && command.toUpperCase() === "AUTH") return this.authOffered;
    return super._isSupported(command);
  }

  override handler_EHLO(command: Buffer, callback: () => void): void {
    this.#advertising = true;
    try {
      super.handler_EHLO(command, () => {
        this.#advertising = false;
        callback();
      });
    } finally {
      this.#advertising = false;
    }
  }

  override handler_AUTH(command: Buffer, callback: () => void): void {
    if (this.refuseAuth()) {
      callback();
      return;
    }
    super.handler_AUTH(command, callback);
  }

  override _validateMailParams(parsed: MailParams): MailParamsError {
    const declared = parsed.args ? parsed.args.SIZE : undefined;
    const refusal = typeof declared === "string" ? this.refuseDeclaredSize(declared) : undefined;
    if (refusal) return { ...refusal, enhancedCode: null };
    return super._validateMailParams(parsed);
  }
}

/** smtp-server's server with named calls in place of its private members. */
export class SmtpServerBase extends SMTPServer {
  /** The TLS handshake of an implicit-TLS connection (port 465), as smtp-server does it itself. */
  protected upgradeToTls(
    socket: Socket,
    callback: (error: Error | null, tlsSocket?: TLSSocket) => void,
  ): void {
    this._upgrade(socket, callback);
  }

  /** smtp-server's own error path (its "error" event and log). */
  protected reportError(error: Error): void {
    this._onError(error);
  }
}
