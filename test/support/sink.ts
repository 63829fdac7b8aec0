// A scripted SMTP peer (smtp-server on 127.0.0.1:0) for delivery tests: answers per command and per recipient, records what arrived.
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

/** A reply as the wire shows it, e.g. "451 4.7.1 Try again later" or "550 5.1.1 User unknown". */
export type SinkReply = string;

/** What the sink answers; a command without an entry is accepted. Tests may change it between attempts. */
export interface SinkScript {
  /** Refuse the connection with this greeting reply (e.g. "421 4.3.2 Too busy"). */
  connect?: SinkReply;
  mailFrom?: SinkReply;
  /** Per recipient (lower-case address) or computed; undefined accepts. */
  rcpt?: Record<string, SinkReply> | ((address: string) => SinkReply | undefined);
  /** The reply after the message data ("." line). */
  data?: SinkReply;
  /**
   * Stall after the message data: no reply to the "." line while the connection stays open, for
   * the transactions this returns true for (given their accepted recipients). A stalled message is
   * never counted as received: the client that gives up closes the connection before any 250.
   */
  stall?: (rcptTo: string[]) => boolean;
  /** Wait this long before replying to the "." line (a slow peer; the message counts once accepted). */
  dataDelayMs?: number;
}

export interface SinkOptions {
  script?: SinkScript;
  /** Offer STARTTLS with this certificate; without it STARTTLS is neither advertised nor accepted. */
  tls?: { cert: string; key: string };
  /** Require AUTH with these credentials before MAIL FROM. */
  auth?: { username: string; password: string; requireTls?: boolean };
  /**
   * Loopback address to bind (default 127.0.0.1). MX hosts share the connector's port, so tests
   * give each MX host its own 127.0.0.x on one port.
   */
  host?: string;
  /** Port to bind; default 0 (any free port). */
  port?: number;
  /** ESMTP extensions not to offer: an older or plainer next hop. DSN is offered only when listed in `offer`. */
  hide?: ("SMTPUTF8" | "8BITMIME")[];
  offer?: "DSN"[];
}

export interface SinkSession {
  ehlo: string;
  secure: boolean;
  authUser?: string;
}

export interface SinkMessage extends SinkSession {
  mailFrom: string;
  /** Recipients the sink accepted for this transaction. */
  rcptTo: string[];
  raw: Buffer;
  /** MAIL FROM's SMTPUTF8 and BODY parameters. */
  smtpUtf8: boolean;
  bodyType: string;
  /** RET and ENVID (DSN offered), and NOTIFY/ORCPT per accepted recipient. */
  dsn?: { ret?: string | null; envid?: string | null };
  rcptDsn: ({ notify?: string[]; orcpt?: string } | undefined)[];
  /** When the sink accepted it (Date.now(), just before its 250). */
  at: number;
}

export interface Sink {
  readonly port: number;
  readonly host: string;
  script: SinkScript;
  /** Messages the sink accepted with a 2xx after DATA. */
  readonly received: SinkMessage[];
  /** Every RCPT TO address the sink saw, accepted or not, in order. */
  readonly rcptSeen: string[];
  /** Connections opened to the sink. */
  readonly connections: number;
  /** Connections open now, and the most open at once since the sink started or the peak was set to 0. */
  readonly openConnections: number;
  peakConnections: number;
  /** AUTH attempts as "user:ok" or "user:failed". */
  readonly authAttempts: string[];
  close(): Promise<void>;
}

/** Parses "451 4.7.1 Text" into the error smtp-server turns into that reply. */
function replyError(reply: SinkReply): Error & { responseCode: number } {
  const m = /^(\d{3})\s*(.*)$/.exec(reply.trim());
  const err = new Error(m?.[2] || "Error") as Error & { responseCode: number };
  err.responseCode = Number(m?.[1] ?? 554);
  return err;
}

const isAccept = (reply: SinkReply | undefined) => reply === undefined || reply.startsWith("2");

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const received: SinkMessage[] = [];
  const rcptSeen: string[] = [];
  const authAttempts: string[] = [];
  let connections = 0;
  let open = 0;
  let peak = 0;
  const state = { script: options.script ?? {} };
  const disabled: string[] = [];
  if (!options.tls) disabled.push("STARTTLS");
  if (!options.auth) disabled.push("AUTH");

  const serverOptions: SMTPServerOptions = {
    secure: false,
    logger: false,
    banner: "sink ready",
    disabledCommands: disabled,
    hideSTARTTLS: !options.tls,
    authOptional: !options.auth,
    allowInsecureAuth: !options.auth?.requireTls,
    authMethods: ["PLAIN", "LOGIN"],
    closeTimeout: 200,
    hideSMTPUTF8: options.hide?.includes("SMTPUTF8") ?? false,
    hide8BITMIME: options.hide?.includes("8BITMIME") ?? false,
    hideDSN: !options.offer?.includes("DSN"),
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    onClose() {
      open -= 1;
    },
    onConnect(_session, callback) {
      connections += 1;
      open += 1;
      peak = Math.max(peak, open);
      const r = state.script.connect;
      callback(isAccept(r) ? null : replyError(r!));
    },
    onAuth(auth, _session, callback) {
      const ok =
        auth.username === options.auth?.username && auth.password === options.auth?.password;
      authAttempts.push(`${auth.username}:${ok ? "ok" : "failed"}`);
      if (!ok) return callback(replyError("535 5.7.8 Authentication credentials invalid"));
      callback(null, { user: auth.username });
    },
    onMailFrom(_address, _session, callback) {
      const r = state.script.mailFrom;
      callback(isAccept(r) ? null : replyError(r!));
    },
    onRcptTo(address, _session, callback) {
      const addr = address.address.toLowerCase();
      rcptSeen.push(addr);
      const rcpt = state.script.rcpt;
      const r = typeof rcpt === "function" ? rcpt(addr) : rcpt?.[addr];
      callback(isAccept(r) ? null : replyError(r!));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        const rcptTo = session.envelope.rcptTo.map((a) => a.address.toLowerCase());
        if (state.script.stall?.(rcptTo)) return;
        const delay = state.script.dataDelayMs;
        if (delay) await new Promise((r) => setTimeout(r, delay));
        const r = state.script.data;
        if (!isAccept(r)) return callback(replyError(r!));
        received.push({
          ehlo: session.hostNameAppearsAs,
          secure: session.secure,
          ...(session.user ? { authUser: String(session.user) } : {}),
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          rcptTo,
          raw: Buffer.concat(chunks),
          smtpUtf8: session.envelope.smtpUtf8 === true,
          bodyType: session.envelope.bodyType ?? "7bit",
          ...(session.envelope.dsn ? { dsn: { ...session.envelope.dsn } } : {}),
          rcptDsn: session.envelope.rcptTo.map((a) => a.dsn),
          at: Date.now(),
        });
        callback(null);
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  server.on("error", () => {});
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    host,
    get script() {
      return state.script;
    },
    set script(s: SinkScript) {
      state.script = s;
    },
    received,
    rcptSeen,
    authAttempts,
    get connections() {
      return connections;
    },
    get openConnections() {
      return open;
    },
    get peakConnections() {
      return peak;
    },
    set peakConnections(n: number) {
      peak = n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
