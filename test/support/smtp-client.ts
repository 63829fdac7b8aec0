// A raw SMTP client for tests: exact replies over plain, STARTTLS and implicit-TLS sockets, with bytes sent as given.
import { connect as netConnect, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";

export interface SmtpReplyLines {
  code: number;
  lines: string[];
  /** The whole reply, lines joined with "\n". */
  text: string;
}

export interface RawClientOptions {
  host: string;
  port: number;
  /** Source address, e.g. 127.0.0.2, to look like another client on loopback. */
  localAddress?: string;
  /** Implicit TLS (port 465 style), trusting `ca`. */
  tls?: { ca: string; servername?: string };
  /** Bytes written right after connecting, before any reply is read (a PROXY header). */
  prelude?: Uint8Array;
}

export class RawSmtpClient {
  #socket: Socket | TLSSocket;
  #buffer = "";
  #replies: SmtpReplyLines[] = [];
  #waiters: Array<(r: SmtpReplyLines | undefined) => void> = [];
  #pending: string[] = [];
  #closed = false;
  #closedPromise: Promise<void>;

  private constructor(socket: Socket | TLSSocket) {
    this.#socket = socket;
    this.#closedPromise = new Promise((resolve) => socket.once("close", () => resolve()));
    this.#attach(socket);
  }

  static connect(o: RawClientOptions): Promise<RawSmtpClient> {
    return new Promise((resolve, reject) => {
      const base = {
        host: o.host,
        port: o.port,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      };
      if (o.tls && !o.prelude) {
        const s = tlsConnect(
          { ...base, ca: o.tls.ca, servername: o.tls.servername ?? "localhost" },
          () => resolve(new RawSmtpClient(s)),
        );
        s.once("error", reject);
        return;
      }
      const s = netConnect(base, () => {
        if (o.prelude) s.write(o.prelude);
        if (!o.tls) return resolve(new RawSmtpClient(s));
        const t = tlsConnect(
          { socket: s, ca: o.tls.ca, servername: o.tls.servername ?? "localhost" },
          () => resolve(new RawSmtpClient(t)),
        );
        t.once("error", reject);
      });
      s.once("error", reject);
    });
  }

  #attach(socket: Socket | TLSSocket): void {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => this.#onData(chunk));
    socket.on("error", () => {});
    socket.once("close", () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w(undefined);
    });
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (let i = this.#buffer.indexOf("\r\n"); i >= 0; i = this.#buffer.indexOf("\r\n")) {
      const line = this.#buffer.slice(0, i);
      this.#buffer = this.#buffer.slice(i + 2);
      this.#pending.push(line);
      if (line.length < 4 || line[3] !== "-") {
        const lines = this.#pending.splice(0);
        const reply = { code: Number(line.slice(0, 3)), lines, text: lines.join("\n") };
        const w = this.#waiters.shift();
        if (w) w(reply);
        else this.#replies.push(reply);
      }
    }
  }

  /** The next reply; rejects when the connection closes first or nothing comes within `timeoutMs`. */
  read(timeoutMs = 15_000): Promise<SmtpReplyLines> {
    const queued = this.#replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#closed) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no reply in time")), timeoutMs);
      this.#waiters.push((r) => {
        clearTimeout(timer);
        if (r) resolve(r);
        else reject(new Error("connection closed"));
      });
    });
  }

  write(data: string | Uint8Array): void {
    this.#socket.write(data);
  }

  /** Sends one command line (CRLF added) and reads its reply. */
  command(line: string): Promise<SmtpReplyLines> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** STARTTLS and the handshake; the caller sends EHLO again. */
  async startTls(ca: string, servername = "localhost"): Promise<SmtpReplyLines> {
    const reply = await this.command("STARTTLS");
    if (reply.code !== 220) return reply;
    const plain = this.#socket;
    plain.removeAllListeners("data");
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const t = tlsConnect({ socket: plain, ca, servername }, () => resolve(t));
      t.once("error", reject);
    });
    this.#socket = secure;
    this.#attach(secure);
    return reply;
  }

  get encrypted(): boolean {
    return "encrypted" in this.#socket && this.#socket.encrypted === true;
  }

  /** Resolves once the server has closed the connection. */
  closed(): Promise<void> {
    return this.#closedPromise;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** AUTH PLAIN initial response for a user name and password. */
export function plainToken(user: string, password: string): string {
  return Buffer.from(`\u0000${user}\u0000${password}`).toString("base64");
}

/** MAIL, RCPT for each recipient, and DATA when one was accepted; `body` is sent as given (already dot-stuffed). */
export async function transaction(
  c: RawSmtpClient,
  from: string,
  to: string[],
  body: string,
): Promise<{
  mail: SmtpReplyLines;
  rcpt: SmtpReplyLines[];
  data?: SmtpReplyLines;
  end?: SmtpReplyLines;
}> {
  const mail = await c.command(`MAIL FROM:<${from}>`);
  const rcpt: SmtpReplyLines[] = [];
  if (mail.code !== 250) return { mail, rcpt };
  for (const r of to) rcpt.push(await c.command(`RCPT TO:<${r}>`));
  if (!rcpt.some((r) => r.code === 250)) return { mail, rcpt };
  const data = await c.command("DATA");
  if (data.code !== 354) return { mail, rcpt, data };
  c.write(body.endsWith("\r\n") ? `${body}.\r\n` : `${body}\r\n.\r\n`);
  return { mail, rcpt, data, end: await c.read() };
}
