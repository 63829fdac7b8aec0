// Fuzz: thousands of random and mutated SMTP sessions against local mode's listener (plain and implicit TLS), while a
// canary client keeps sending real mail. The relay must not crash or leave a rejection unhandled, its memory must stay
// bounded, the canary must be served throughout, and every connection slot must come back.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { smartHostConnector, submit } from "#test/support/fault-relay.ts";
import { captureClientHello, FuzzCases, play } from "#test/support/fuzz-sessions.ts";
import { startRelayChild } from "#test/support/relay-child.ts";
import { freePort, waitFor, writeRecords } from "#test/support/relay-process.ts";
import { startSink } from "#test/support/sink.ts";
import { RawSmtpClient } from "#test/support/smtp-client.ts";

const SESSIONS = Number(process.env.FUZZ_SESSIONS ?? 3000);
const PARALLEL = 40;
/** Replay a failure with FUZZ_SEED=<seed from the report line>. */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PER_SOURCE = 200;

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

const fuzzConnector = (name: string, port: number, extra: Record<string, unknown> = {}) => ({
  kind: "ReceiveConnector",
  name,
  bindings: [`127.0.0.1:${port}`],
  remoteIpRanges: ["127.0.0.0/8"],
  authMechanisms: ["Tls"],
  grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
  tarpitInterval: 0,
  maxInboundConnectionPerSource: PER_SOURCE,
  maxMessageSize: 1024 * 1024,
  connectionInactivityTimeout: 10,
  ...extra,
});

test(`${SESSIONS} fuzzed sessions: no crash, bounded memory, real mail served throughout (seed ${SEED})`, async () => {
  const home = await mkdtemp(join(tmpdir(), "relay-fuzz-"));
  cleanup.push(() => rm(home, { recursive: true, force: true }));
  const sink = await startSink();
  cleanup.push(() => sink.close());
  const [plain, implicit] = [await freePort(), await freePort()];
  await writeRecords(home, [
    fuzzConnector("Fuzz", plain),
    fuzzConnector("Fuzz TLS", implicit, { implicitTls: true }),
    smartHostConnector(`127.0.0.1:${sink.port}`),
  ]);
  const relay = startRelayChild(home);
  cleanup.push(() => relay.kill());
  await relay.ready();
  const rss = { start: relay.rssKiB(), warm: 0, end: 0 };

  // The canary: a well-behaved client sending real mail all along.
  const canary: number[] = [];
  let fuzzing = true;
  const canaryLoop = (async () => {
    for (let i = 0; fuzzing; i++) {
      const s = await submit(plain, {
        from: "app@example.com",
        to: ["canary@example.net"],
        subject: `canary ${i}`,
      }).catch((error: Error) => ({ reply: { code: 0, text: error.message } }));
      canary.push(s.reply.code);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const cases = new FuzzCases(SEED, await captureClientHello());
  const kinds: Record<string, number> = {};
  let next = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < SESSIONS) {
        const n = next++;
        if (n === 300) rss.warm = relay.rssKiB();
        const session = cases.next();
        kinds[session.kind] = (kinds[session.kind] ?? 0) + 1;
        await play(session, { plain, implicit });
      }
    }),
  );
  const fuzzMs = Date.now() - t0;
  fuzzing = false;
  await canaryLoop;

  expect(relay.child.exitCode, relay.stderr().slice(-3000)).toBeNull();
  expect(relay.stderr()).not.toMatch(/unhandled|uncaught|ERR_UNHANDLED_REJECTION/i);

  // Every canary got its 250 and arrived.
  expect(canary.length).toBeGreaterThanOrEqual(5);
  expect(canary.filter((c) => c !== 250)).toEqual([]);
  const canaries = () =>
    sink.received.filter((m) => /Subject: canary \d+/.test(m.raw.toString())).length;
  await waitFor("every canary at the sink", () => canaries() >= canary.length, 60_000);

  // Sessions the fuzz left behind end; their connection slots come back.
  await waitFor(
    "the listener to be idle again",
    async () => {
      const c = await RawSmtpClient.connect({ host: "127.0.0.1", port: plain });
      const g = await c.read().catch(() => ({ code: 0 }));
      c.destroy();
      return g.code === 220;
    },
    30_000,
  );
  const clients = await Promise.all(
    Array.from({ length: PER_SOURCE }, () =>
      RawSmtpClient.connect({ host: "127.0.0.1", port: plain }),
    ),
  );
  const greetings = await Promise.all(
    clients.map((c) =>
      c.read().then(
        (r) => r.code,
        () => 0,
      ),
    ),
  );
  for (const c of clients) c.destroy();
  expect(greetings.filter((g) => g !== 220)).toEqual([]);

  await new Promise((r) => setTimeout(r, 1000));
  rss.end = relay.rssKiB();
  const after = await submit(plain, {
    from: "app@example.com",
    to: ["after@example.net"],
    subject: "after fuzz",
  });
  expect(after.reply.code).toBe(250);
  await waitFor("the last message at the sink", () =>
    sink.received.some((m) => m.raw.toString().includes("Subject: after fuzz")),
  );

  // What the fuzz provoked, as the relay logged it.
  const provoked: Record<string, number> = {};
  for (const line of relay.stderr().split("\n")) {
    const m = /"message":"([^"]+)"(?:.*"error":"([^"]{0,40}))?/.exec(line);
    const key = m && `${m[1]}${m[2] ? `: ${m[2]}` : ""}`;
    if (key) provoked[key] = (provoked[key] ?? 0) + 1;
  }
  console.log(
    JSON.stringify({
      fuzz: {
        seed: SEED,
        sessions: SESSIONS,
        fuzzMs,
        kinds,
        canaries: canary.length,
        rssKiB: rss,
        provoked,
      },
    }),
  );
  // Memory: what the fuzz leaves behind must not grow with the session count (sessions hold at
  // most a 1 MiB message and a command line each; GC may not have run yet, hence the margin).
  expect(rss.end - rss.warm).toBeLessThan(100 * 1024);
  expect(await relay.stop()).toBe(0);
}, 240_000);
