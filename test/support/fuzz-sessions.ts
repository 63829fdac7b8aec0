// Random and mutated SMTP sessions for fuzzing the listener: junk bytes, huge lines, pipelined garbage, mutated
// transcripts, TLS handshakes cut short, DATA abandoned midway. Seeded, so a failing run can be replayed.
import { createServer, connect as netConnect, type Socket } from "node:net";
import { TLSSocket, connect as tlsConnect } from "node:tls";

/** mulberry32: small, fast, good enough to pick fuzz cases reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Step =
  | { write: Buffer | string }
  | { wait: number }
  /** Waits (at most 1 s) until the server's output so far matches. */
  | { until: RegExp }
  /** Completes a TLS handshake on the connection (implicit TLS, or after a 220 to STARTTLS). */
  | { tls: true };

export interface FuzzSession {
  kind: string;
  target: "plain" | "implicit";
  steps: Step[];
  /** How the client leaves: FIN, destroy, or RST. */
  end: "end" | "destroy" | "reset";
}

const VERBS = [
  "EHLO fuzz.test",
  "HELO fuzz.test",
  "MAIL FROM:<a@example.com>",
  "MAIL FROM:<>",
  "MAIL FROM:<a@example.com> SIZE=99999999999",
  "RCPT TO:<b@example.net>",
  "RCPT TO:<b@example.net> NOTIFY=NEVER",
  "DATA",
  ".",
  "RSET",
  "NOOP",
  "VRFY postmaster",
  "EXPN list",
  "HELP",
  "AUTH PLAIN AGFAYg==",
  "AUTH LOGIN",
  "STARTTLS",
  "BDAT 10 LAST",
  "XCLIENT ADDR=1.2.3.4",
  "QUIT",
  "MAIL FROM:<\u0000@x>",
  "RCPT TO:<@relay.example:b@example.net>",
  "EHLO",
  "mail from:<A@EXAMPLE.COM>",
];

/** smtp-server's answer to STARTTLS: the TLS handshake may start after it. */
const STARTTLS_READY = /^220 .*Ready to start TLS/m;

export class FuzzCases {
  readonly #r: () => number;
  readonly #clientHello: Buffer;

  constructor(seed: number, clientHello: Buffer) {
    this.#r = prng(seed);
    this.#clientHello = clientHello;
  }

  #int(lo: number, hi: number): number {
    return lo + Math.floor(this.#r() * (hi - lo + 1));
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#r() * items.length)]!;
  }

  #bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.#r() * 256);
    return b;
  }

  #end(): FuzzSession["end"] {
    return this.#pick(["end", "destroy", "reset"] as const);
  }

  /** A valid transaction, as bytes; mutations start from it. */
  #transcript(): string {
    const body = Array.from({ length: this.#int(1, 40) }, () => "x".repeat(this.#int(0, 120))).join(
      "\r\n",
    );
    return `EHLO fuzz.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: fuzz\r\n\r\n${body}\r\n.\r\nQUIT\r\n`;
  }

  #mutate(text: string): Buffer {
    const b = Buffer.from(text, "latin1");
    const out: number[] = [...b];
    const edits = this.#int(1, 8);
    for (let e = 0; e < edits && out.length > 0; e++) {
      const at = this.#int(0, out.length - 1);
      switch (this.#int(0, 5)) {
        case 0: // flip a byte
          out[at] = Math.floor(this.#r() * 256);
          break;
        case 1: // drop a run
          out.splice(at, this.#int(1, 20));
          break;
        case 2: // duplicate a run
          out.splice(at, 0, ...out.slice(at, at + this.#int(1, 60)));
          break;
        case 3: // bare LF or CR, NUL (smuggling-shaped line ends)
          out.splice(at, 0, this.#pick([0x0a, 0x0d, 0x00]));
          break;
        case 4: // a "." line in the middle of things
          out.splice(at, 0, ...Buffer.from(this.#pick(["\r\n.\r\n", "\n.\n", "\r\n.\n", ".\r\n"])));
          break;
        default: // truncate
          out.length = at;
      }
    }
    return Buffer.from(out);
  }

  /** Splits a buffer into random writes with tiny pauses, so the server parses across chunks. */
  #chunks(b: Buffer): Step[] {
    const steps: Step[] = [];
    for (let i = 0; i < b.length; ) {
      const n = this.#int(1, Math.max(1, Math.min(b.length - i, 2048)));
      steps.push({ write: b.subarray(i, i + n) });
      if (this.#r() < 0.1) steps.push({ wait: this.#int(1, 20) });
      i += n;
    }
    return steps;
  }

  next(): FuzzSession {
    const x = this.#r();
    const greet: Step = { until: /^220 /m };
    if (x < 0.15)
      return {
        kind: "junk",
        target: this.#r() < 0.8 ? "plain" : "implicit",
        steps: this.#chunks(this.#bytes(this.#int(1, 4096))),
        end: this.#end(),
      };
    if (x < 0.23) {
      const size = this.#int(10_000, 1_000_000);
      const head = this.#pick(["EHLO ", "MAIL FROM:<", "RCPT TO:<", "", "NOOP "]);
      const line = `${head}${"a".repeat(size)}${this.#r() < 0.5 ? "\r\n" : ""}`;
      return {
        kind: "huge-line",
        target: "plain",
        steps: [greet, { write: line }, { wait: 20 }],
        end: this.#end(),
      };
    }
    if (x < 0.43) {
      const lines = Array.from({ length: this.#int(5, 400) }, () =>
        this.#r() < 0.7 ? this.#pick(VERBS) : this.#bytes(this.#int(0, 80)).toString("latin1"),
      );
      const sep = this.#pick(["\r\n", "\n", "\r", "\r\n"]);
      return {
        kind: "pipelined",
        target: "plain",
        steps: [greet, ...this.#chunks(Buffer.from(lines.join(sep) + sep, "latin1"))],
        end: this.#end(),
      };
    }
    if (x < 0.68)
      return {
        kind: "mutated",
        target: "plain",
        steps: [greet, ...this.#chunks(this.#mutate(this.#transcript()))],
        end: this.#end(),
      };
    const cut = () => this.#clientHello.subarray(0, this.#int(0, this.#clientHello.length - 1));
    if (x < 0.76)
      return {
        kind: "starttls-cut",
        target: "plain",
        steps: [
          greet,
          { write: "EHLO fuzz.test\r\nSTARTTLS\r\n" },
          { until: STARTTLS_READY },
          { write: cut() },
        ],
        end: this.#end(),
      };
    if (x < 0.84)
      return {
        kind: "implicit-tls-cut",
        target: "implicit",
        steps: [{ write: this.#r() < 0.8 ? cut() : this.#bytes(this.#int(1, 600)) }],
        end: this.#end(),
      };
    if (x < 0.89) {
      const implicit = this.#r() < 0.5;
      const before: Step[] = implicit
        ? [{ tls: true }]
        : [
            greet,
            { write: "EHLO fuzz.test\r\nSTARTTLS\r\n" },
            { until: STARTTLS_READY },
            { tls: true },
          ];
      return {
        kind: implicit ? "implicit-tls-garbage" : "starttls-garbage",
        target: implicit ? "implicit" : "plain",
        steps: [...before, { write: this.#mutate(this.#transcript()) }, { wait: 30 }],
        end: this.#end(),
      };
    }
    if (x < 0.96) {
      const t = this.#transcript();
      const partial = t.slice(0, t.indexOf("DATA\r\n") + 6 + this.#int(0, 200));
      return {
        kind: "data-abandoned",
        target: "plain",
        steps: [greet, ...this.#chunks(Buffer.from(partial))],
        end: this.#pick(["destroy", "reset"] as const),
      };
    }
    if (x < 0.98)
      return {
        kind: "oversize-data",
        target: "plain",
        steps: [
          greet,
          {
            write:
              "EHLO fuzz.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n",
          },
          { until: /^354 /m },
          { write: `${"b".repeat(998)}\r\n`.repeat(1200) },
          { write: ".\r\n" },
          { until: /^552 /m },
        ],
        end: "end",
      };
    return {
      kind: "idle",
      target: this.#r() < 0.5 ? "plain" : "implicit",
      steps: [{ wait: this.#int(0, 200) }],
      end: this.#end(),
    };
  }
}

/** A real TLS ClientHello, captured from Node's TLS client against a socket that only listens. */
export async function captureClientHello(): Promise<Buffer> {
  const server = createServer();
  const got = new Promise<Buffer>((resolve) =>
    server.once("connection", (s) =>
      s.once("data", (d: Buffer) => {
        resolve(d);
        s.destroy();
      }),
    ),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const client = tlsConnect({
    host: "127.0.0.1",
    port,
    servername: "relay.test",
    rejectUnauthorized: false,
  });
  client.on("error", () => {});
  const hello = await got;
  client.destroy();
  await new Promise((r) => server.close(r));
  return hello;
}

/** Plays one session against the listener; never throws, and gives up after `deadlineMs`. */
export async function play(
  session: FuzzSession,
  ports: { plain: number; implicit: number },
  deadlineMs = 3000,
): Promise<void> {
  let socket: Socket = netConnect(ports[session.target], "127.0.0.1");
  let seen = "";
  const listen = (s: Socket) => {
    s.on("data", (d: Buffer) => {
      seen = (seen + d.toString("latin1")).slice(-4096);
    });
    s.on("error", () => {});
  };
  listen(socket);
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  const deadline = setTimeout(() => socket.destroy(), deadlineMs);
  try {
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
      closed,
    ]);
    for (const step of session.steps) {
      if (socket.destroyed) break;
      if ("write" in step) {
        if (!socket.write(step.write))
          await Promise.race([new Promise((r) => socket.once("drain", r)), closed]);
      } else if ("wait" in step) {
        await new Promise((r) => setTimeout(r, step.wait));
      } else if ("until" in step) {
        const end = Date.now() + 1000;
        while (!step.until.test(seen) && Date.now() < end && !socket.destroyed)
          await new Promise((r) => setTimeout(r, 5));
      } else {
        const secure = tlsConnect({ socket, servername: "relay.test", rejectUnauthorized: false });
        await new Promise<void>((resolve) => {
          secure.once("secureConnect", () => resolve());
          secure.once("error", () => resolve());
          secure.once("close", () => resolve());
        });
        seen = "";
        socket = secure;
        listen(socket);
      }
    }
  } catch {
    // Refused or reset: that is an outcome too.
  } finally {
    try {
      if (session.end === "end") socket.end();
      // RST needs the TCP handle itself; a TLS socket is just destroyed.
      else if (session.end === "reset" && !(socket instanceof TLSSocket)) socket.resetAndDestroy();
      else socket.destroy();
    } catch {
      socket.destroy();
    }
    await Promise.race([closed, new Promise((r) => setTimeout(r, 500))]);
    clearTimeout(deadline);
    socket.destroy();
  }
}
