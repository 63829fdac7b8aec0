// Promise 2 under fire, as a reusable run: local mode killed with SIGKILL mid-load, restarted, and what the sink got counted.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  appsConnector,
  freePort,
  smartHostConnector,
  startRelayProcess,
  waitFor,
  writeRecords,
} from "./relay-process.ts";
import { startSink } from "./sink.ts";
import { sendLoad } from "./smtp-load.ts";

export interface CrashRunOptions {
  /** Messages the load offers (default 2,000). */
  total?: number;
  /** The relay gets SIGKILL when this many have been acknowledged (default 700). */
  killAfter?: number;
  /** Sessions of the load (default 10). */
  connections?: number;
  /** How long the restarted relay may take to deliver every acknowledged message. */
  drainTimeoutMs?: number;
}

export interface CrashRunResult {
  sent: number;
  /** Messages that got a 250 before the kill. */
  acknowledged: number;
  /** Distinct messages the sink received, after the restart had delivered everything. */
  delivered: number;
  /** Acknowledged messages the sink never received: promise 2 broken if not empty. */
  missing: number[];
  /** Messages the sink received more than once. */
  duplicates: number;
  /** duplicates as a percentage of acknowledged messages. */
  duplicatePercent: number;
  /** Messages delivered whose 250 never reached the client (the kill came between commit and reply). */
  deliveredWithout250: number;
  /** Connection-level errors the load saw (the kill closes its sessions). */
  loadErrors: number;
  /**
   * For each duplicate, how long before the kill the sink accepted its first copy (ms). Negative:
   * the sink got to the message only after the kill, so its 250 reached no one and the relay
   * rightly sent it again; positive: the relay died before recording a 250 it may have read.
   */
  duplicateAgesMs: number[];
}

/**
 * One run: a 4 KiB load over `connections` sessions into a relay on a fresh RELAY_HOME that
 * smart-hosts to a sink; SIGKILL after `killAfter` acknowledgements; a second relay on the same
 * home; then waits until every acknowledged message reached the sink (or the timeout passes).
 */
export async function runCrash(options: CrashRunOptions = {}): Promise<CrashRunResult> {
  const total = options.total ?? 2000;
  const killAfter = options.killAfter ?? 700;
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const home = await mkdtemp(join(tmpdir(), "relay-crash-"));
    cleanup.push(() => rm(home, { recursive: true, force: true }));
    const sink = await startSink();
    cleanup.push(() => sink.close());
    const port = await freePort();
    await writeRecords(home, [
      appsConnector(port, { name: "Load", maxInboundConnectionPerSource: 50 }),
      smartHostConnector(`127.0.0.1:${sink.port}`, "Sink"),
    ]);

    const first = startRelayProcess(home);
    cleanup.push(() => first.kill());
    await first.ready;
    let killing: Promise<void> | undefined;
    let killedAt = 0;
    const load = await sendLoad({
      host: "127.0.0.1",
      port,
      total,
      connections: options.connections ?? 10,
      from: "load@example.com",
      to: "rcpt@example.net",
      size: 4096,
      onAck: (n) => {
        if (n !== killAfter) return;
        killedAt = Date.now();
        killing = first.kill();
      },
    });
    await killing;
    const acked = [...load.acked.keys()];

    const second = startRelayProcess(home);
    cleanup.push(() => second.stop());
    await second.ready;
    const delivered = () => {
      const counts = new Map<number, number>();
      for (const m of sink.received) {
        const i = Number(/Message-ID: <load-(\d+)@/.exec(m.raw.toString("latin1"))?.[1]);
        counts.set(i, (counts.get(i) ?? 0) + 1);
      }
      return counts;
    };
    await waitFor(
      "every acknowledged message at the sink",
      () => acked.every((i) => delivered().has(i)),
      options.drainTimeoutMs ?? 120_000,
    ).catch(() => {}); // what is missing is reported, not thrown
    const counts = delivered();
    const duplicates = [...counts.values()].filter((c) => c > 1).length;
    const firstAt = new Map<number, number>();
    for (const m of sink.received) {
      const i = Number(/Message-ID: <load-(\d+)@/.exec(m.raw.toString("latin1"))?.[1]);
      if (!firstAt.has(i)) firstAt.set(i, m.at);
    }
    const duplicateAgesMs = [...counts]
      .filter(([, c]) => c > 1)
      .map(([i]) => killedAt - (firstAt.get(i) ?? killedAt))
      .sort((a, b) => a - b);
    return {
      sent: total,
      acknowledged: acked.length,
      delivered: counts.size,
      missing: acked.filter((i) => !counts.has(i)),
      duplicates,
      duplicatePercent: acked.length ? Math.round((duplicates / acked.length) * 10_000) / 100 : 0,
      deliveredWithout250: [...counts.keys()].filter((i) => !load.acked.has(i)).length,
      loadErrors: load.errors.length,
      duplicateAgesMs,
    };
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  }
}
