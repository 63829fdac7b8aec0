// A small SMTP load client for tests: many messages over a few reused connections, recording which got a 250.
import { connect, type Socket } from "node:net";

export interface LoadResult {
  /** Indexes of messages the server acknowledged with 250 after DATA, and the queue id it gave. */
  acked: Map<number, string>;
  /** Connection-level failures (e.g. the server was killed), one per worker at most. */
  errors: string[];
}

export interface LoadOptions {
  host: string;
  port: number;
  total: number;
  connections: number;
  from: string;
  to: string;
  /** Body size in bytes (approximate). */
  size?: number;
  /** Called after each acknowledgement, e.g. to kill the server part-way. */
  onAck?: (count: number) => void;
  /** Stop sending new messages once this returns true. */
  stop?: () => boolean;
}

/** Reads SMTP replies off a socket; the final line of a multi-line reply ends it (RFC 5321 §4.2.1). Shared with bench/latency.ts. */
export class LineReader {
  #buf = "";
  #waiters: Array<(line: string | undefined) => void> = [];
  #closed = false;
  constructor(socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.#buf += d;
      this.#drain();
    });
    const close = () => {
      this.#closed = true;
      this.#drain();
    };
    socket.on("close", close);
    socket.on("error", close);
  }
  #drain() {
    while (this.#waiters.length > 0) {
      const i = this.#buf.indexOf("\r\n");
      if (i < 0) {
        if (this.#closed) for (const w of this.#waiters.splice(0)) w(undefined);
        return;
      }
      const line = this.#buf.slice(0, i);
      this.#buf = this.#buf.slice(i + 2);
      this.#waiters.shift()?.(line);
    }
  }
  /** The final line of the next (possibly multi-line) reply. */
  async reply(): Promise<string> {
    for (;;) {
      const line = await new Promise<string | undefined>((r) => {
        this.#waiters.push(r);
        this.#drain();
      });
      if (line === undefined) throw new Error("connection closed");
      if (line[3] !== "-") return line;
    }
  }
}

export function messageFor(i: number, size: number, from: string, to: string): string {
  const line = `${"x".repeat(76)}\r\n`;
  const body = line.repeat(Math.max(1, Math.floor(size / line.length)));
  return `From: <${from}>\r\nTo: <${to}>\r\nSubject: load ${i}\r\nMessage-ID: <load-${i}@connector-relay.test>\r\n\r\n${body}`;
}

export async function sendLoad(o: LoadOptions): Promise<LoadResult> {
  const acked = new Map<number, string>();
  const errors: string[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    const socket = connect(o.port, o.host);
    socket.setNoDelay(true);
    const reader = new LineReader(socket);
    const send = (text: string) => socket.write(text);
    const expect = async (code: string) => {
      const r = await reader.reply();
      if (!r.startsWith(code)) throw new Error(`expected ${code}, got ${r}`);
      return r;
    };
    try {
      await expect("220");
      send("EHLO load.test\r\n");
      await expect("250");
      while (next < o.total && !o.stop?.()) {
        const i = next++;
        send(`MAIL FROM:<${o.from}>\r\n`);
        await expect("250");
        send(`RCPT TO:<${o.to}>\r\n`);
        await expect("250");
        send("DATA\r\n");
        await expect("354");
        send(`${messageFor(i, o.size ?? 2048, o.from, o.to)}.\r\n`);
        const r = await expect("250");
        acked.set(i, /<([^>]+)>/.exec(r)?.[1] ?? "");
        o.onAck?.(acked.size);
      }
      send("QUIT\r\n");
      await reader.reply().catch(() => "");
    } catch (error) {
      errors.push((error as Error).message);
    } finally {
      socket.destroy();
    }
  }
  await Promise.all(Array.from({ length: o.connections }, () => worker()));
  return { acked, errors };
}
