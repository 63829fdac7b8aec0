// Accept latency probe: the time from the client's final "." to the server's 250, per message, over parallel sessions.
import { readFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { LineReader } from "#test/support/smtp-load.ts";
import { type Interval, type Percentiles, percentileRatioInterval, percentiles } from "./stats.ts";

export interface LatencyOptions {
  port: number;
  messages: number;
  sessions: number;
  /** "newconn": one connection per message; "reuse": one connection per session. */
  mode: "newconn" | "reuse";
  size: number;
}

export interface LatencyResult {
  mode: "newconn" | "reuse";
  sessions: number;
  /** Final "." sent → 250 read, in ms (includes the server's durable write). */
  dot: Percentiles;
  /** Connect (newconn) or MAIL (reuse) → 250 after the dot, in ms. */
  transaction: Percentiles;
  msgsPerSecond: number;
  errors: string[];
}

async function expect(r: LineReader, code: number, what: string): Promise<void> {
  const got = await r.reply().then(
    (line) => Number(line.slice(0, 3)),
    () => 0,
  );
  if (got !== code) throw new Error(`${what}: expected ${code}, got ${got || "close"}`);
}

function body(size: number): string {
  const line = `${"X".repeat(78)}\r\n`;
  return `${line.repeat(Math.ceil(size / line.length)).slice(0, size - 2)}\r\n`;
}

interface Session {
  socket: Socket;
  replies: LineReader;
}

async function open(port: number): Promise<Session> {
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const replies = new LineReader(socket);
  await expect(replies, 220, "greeting");
  socket.write("EHLO latency-probe\r\n");
  await expect(replies, 250, "EHLO");
  return { socket, replies };
}

async function transaction(s: Session, i: number, payload: string): Promise<number> {
  s.socket.write("MAIL FROM:<sender@example.test>\r\n");
  await expect(s.replies, 250, "MAIL");
  s.socket.write("RCPT TO:<rcpt@example.test>\r\n");
  await expect(s.replies, 250, "RCPT");
  s.socket.write("DATA\r\n");
  await expect(s.replies, 354, "DATA");
  s.socket.write(
    `From: <sender@example.test>\r\nTo: <rcpt@example.test>\r\nSubject: latency probe ${i}\r\n\r\n${payload}`,
  );
  const t = performance.now();
  s.socket.write(".\r\n");
  await expect(s.replies, 250, "end of data");
  return performance.now() - t;
}

async function close(s: Session): Promise<void> {
  s.socket.write("QUIT\r\n");
  await s.replies.reply().catch(() => undefined);
  s.socket.destroy();
}

/** The figures, and each message's dot→250 in ms (kept out of the JSON, for intervals). */
export async function measureLatency(
  o: LatencyOptions,
): Promise<{ result: LatencyResult; dots: number[] }> {
  const payload = body(o.size);
  const dots: number[] = [];
  const txns: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    let session: Session | undefined;
    try {
      while (next < o.messages) {
        const i = next++;
        const t0 = performance.now();
        if (!session || o.mode === "newconn") session = await open(o.port);
        const t1 = o.mode === "newconn" ? t0 : performance.now();
        dots.push(await transaction(session, i, payload));
        txns.push(performance.now() - t1);
        if (o.mode === "newconn") {
          await close(session);
          session = undefined;
        }
      }
      if (session) await close(session);
    } catch (error) {
      errors.push((error as Error).message);
      session?.socket.destroy();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.sessions }, () => worker()));
  const seconds = (performance.now() - t0) / 1000;
  const result: LatencyResult = {
    mode: o.mode,
    sessions: o.sessions,
    dot: percentiles(dots),
    transaction: percentiles(txns),
    msgsPerSecond: Math.round(dots.length / seconds),
    errors,
  };
  return { result, dots };
}

export type LatencyRows = Record<"s1" | "s10", Record<"sink" | "postfix" | "relay", LatencyResult>>;

/** 95 % intervals of the latency ratios (Postfix ÷ relay), keyed as `ratios` is: `latencyP99.s1`… */
export type LatencyIntervals = Record<string, Interval | null>;

/** The intervals of one session count's p50 and p99 ratios from both peers' samples. */
export function latencyIntervals(
  s: "s1" | "s10",
  postfix: number[],
  relay: number[],
): LatencyIntervals {
  return {
    [`latencyP50.${s}`]: percentileRatioInterval(postfix, relay, 50),
    [`latencyP99.${s}`]: percentileRatioInterval(postfix, relay, 99),
  };
}

/** `npm run bench -- --only latency`: each repetition's rows with the load average when it started. */
export interface LatencyRep {
  loadavg: string;
  latency: LatencyRows;
  intervals: LatencyIntervals;
}
export interface LatencyOnlyResult {
  bench: "connector-relay latency";
  startedAt: string;
  machine: Record<string, string | number>;
  params: { latencyMessages: number; sizeBytes: number; reps: number };
  latencyOnly: LatencyRep[];
}

/** The 1-, 5- and 15-minute load averages of this (shared) machine. */
export const loadAverage = async () =>
  (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");

export function latencySummary(r: LatencyOnlyResult): string {
  const { latencyMessages, sizeBytes } = r.params;
  const lines = [
    `dot→250 latency, ${latencyMessages} messages per row, ${sizeBytes} B, one connection per message`,
  ];
  const ms = (l: LatencyResult) => `${l.dot.p50}/${l.dot.p99}`;
  for (const [i, rep] of r.latencyOnly.entries())
    for (const s of ["s1", "s10"] as const) {
      const l = rep.latency[s];
      const q = (k: "p50" | "p99") => (l.postfix.dot[k] / l.relay.dot[k]).toFixed(2);
      lines.push(
        `  run ${i + 1} (load ${rep.loadavg}) ${s.padEnd(3)} p50/p99 ms: postfix ${ms(l.postfix)} relay ${ms(l.relay)}  postfix÷relay ${q("p50")}/${q("p99")} (p99 ${intervalText(rep.intervals[`latencyP99.${s}`])})`,
      );
    }
  return lines.join("\n");
}

/** "95 % 0.84–1.12", or "no interval" for a result without samples. */
export const intervalText = (i: Interval | null | undefined) =>
  i ? `95 % ${i.low.toFixed(2)}–${i.high.toFixed(2)}` : "no interval";
