// Password guessing against a Client-style connector (587, STARTTLS + AUTH): how many guesses get checked, as JSON.
//
//   ./node_modules/.bin/node bench/auth-guessing.ts [--seconds 60] [--scenario ip|user|both]
//
// 25 parallel connections, loopback only, for `--seconds` per scenario:
// - ip:   every connection from 127.0.0.1, each AUTH a new user name (what stops it is the IP lockout);
// - user: connection n from 127.0.0.(n+1), every AUTH for the one real user (the user lockout).
// A guess is an AUTH the relay checked against the password store: answered 535, or 421 when that
// failure was past maxProtocolErrors. 454 is an AUTH refused by a lockout without any check.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { MemoryMessageStore } from "#adapters/memory/message-store.ts";
import { MemoryQueue } from "#adapters/memory/queue.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import { hashPassword } from "#core/auth/password.ts";
import type { SubmittedMessage } from "#core/message.ts";
import { RecordCache } from "#core/records/cache.ts";
import { silentLogger } from "#listener/logger.ts";
import { createListener } from "#listener/server.ts";
import { plainToken, RawSmtpClient } from "#test/support/smtp-client.ts";
import { createServerCertificate, createTestCa } from "#test/support/tls.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    scenario: { type: "string", default: "both" },
    connections: { type: "string", default: "25" },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Tally {
  authAttempts: number;
  guesses: number;
  refusedByLockout: number;
  connections: number;
  connectionsRefused: number;
  connectionErrors: number;
  /** Guesses in the second half of the run: the rate once any lockout has set in. */
  guessesSecondHalf: number;
  replies: Record<string, number>;
}

async function startRelay() {
  const ca = await createTestCa();
  const cert = await createServerCertificate(["localhost"], ca);
  const records = [
    {
      kind: "ReceiveConnector",
      name: "Client Frontend",
      bindings: ["127.0.0.1:587"],
      permissionGroups: ["Users"],
      requireTls: true,
      // Everything else as shipped: 5 s tarpit, 5 protocol errors, 20 connections per source.
    },
    { kind: "AcceptedDomain", domain: "contoso.com" },
    {
      kind: "SmtpUser",
      name: "scanner",
      passwordHash: await hashPassword(randomBytes(9).toString("hex")),
    },
  ];
  // The counter store exists only once the lockout does; the same script measures both.
  const counters = await import("#adapters/memory/rate-counter-store.ts" as string)
    .then((m: { MemoryRateCounterStore: new () => unknown }) => new m.MemoryRateCounterStore())
    .catch(() => undefined);
  const listener = createListener({
    records: new RecordCache(new MemoryRecordStore(records), { ttlMs: 600_000 }),
    queue: new MemoryQueue<SubmittedMessage>(),
    messageStore: new MemoryMessageStore(),
    logger: silentLogger,
    config: { hostName: "relay.bench", tls: cert, bindPorts: { "587": 0 } },
    ...(counters ? { counters } : {}),
  } as Parameters<typeof createListener>[0]);
  await listener.start();
  const port = listener.addresses()[0]!.actualPort;
  return { listener, port, ca: ca.cert, lockout: counters !== undefined };
}

async function attacker(
  slot: number,
  scenario: "ip" | "user",
  relay: { port: number; ca: string },
  deadline: number,
  half: number,
  t: Tally,
): Promise<void> {
  const from = scenario === "ip" ? "127.0.0.1" : `127.0.0.${slot + 1}`;
  let n = 0;
  while (Date.now() < deadline) {
    let c: RawSmtpClient | undefined;
    try {
      c = await RawSmtpClient.connect({ host: "127.0.0.1", port: relay.port, localAddress: from });
      t.connections++;
      if ((await c.read()).code !== 220) {
        t.connectionsRefused++;
        await sleep(200);
        continue;
      }
      await c.command("EHLO bench.example");
      if ((await c.startTls(relay.ca)).code !== 220) throw new Error("STARTTLS refused");
      await c.command("EHLO bench.example");
      while (Date.now() < deadline) {
        const user = scenario === "ip" ? `guess-${slot}-${n++}` : "scanner";
        c.write(`AUTH PLAIN ${plainToken(user, randomBytes(6).toString("hex"))}\r\n`);
        // Long enough for the tarpit and a queue of scrypt checks: a reply given up on would be a
        // guess the relay checked but this count missed.
        const reply = await c.read(120_000);
        t.authAttempts++;
        const key = reply.lines.at(-1)?.slice(0, 9) ?? String(reply.code);
        t.replies[key] = (t.replies[key] ?? 0) + 1;
        if (reply.code === 535 || reply.code === 421) {
          t.guesses++;
          if (Date.now() >= half) t.guessesSecondHalf++;
        } else if (reply.code === 454) t.refusedByLockout++;
        if (reply.code === 421) break;
      }
    } catch {
      t.connectionErrors++;
      // A connection the relay closed mid-command: start a new one.
    } finally {
      c?.destroy();
    }
  }
}

async function run(scenario: "ip" | "user") {
  const relay = await startRelay();
  const t: Tally = {
    authAttempts: 0,
    guesses: 0,
    refusedByLockout: 0,
    connections: 0,
    connectionsRefused: 0,
    connectionErrors: 0,
    guessesSecondHalf: 0,
    replies: {},
  };
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  const half = started + (SECONDS * 1000) / 2;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) => attacker(i, scenario, relay, deadline, half, t)),
  );
  const seconds = (Date.now() - started) / 1000;
  await relay.listener.stop();
  return {
    scenario,
    lockout: relay.lockout,
    seconds: Math.round(seconds),
    parallelConnections: CONNECTIONS,
    ...t,
    guessesPerMinute: Math.round((t.guesses / seconds) * 60),
    guessesPerMinuteSecondHalf: Math.round((t.guessesSecondHalf / (seconds / 2)) * 60),
  };
}

const scenarios: Array<"ip" | "user"> =
  values.scenario === "both" ? ["ip", "user"] : [values.scenario as "ip" | "user"];
const results = [];
// The listener's tarpit timers do not hold the process open; this does, until the last result.
const keepAlive = setInterval(() => {}, 1000);
for (const s of scenarios) results.push(await run(s));
clearInterval(keepAlive);
process.stdout.write(`${JSON.stringify({ bench: "auth-guessing", results }, null, 2)}\n`);
