// Disk full under the queues: local mode answers 451 4.3.0 and never 250 while its queue database cannot be written,
// leaves nothing half-written behind, and accepts again once there is room.
//
// The queue database sits on a 1 MiB tmpfs of the relay's own mount namespace (`unshare --map-root-user
// --mount`: no root needed where unprivileged user namespaces are on), so ENOSPC is the kernel's,
// not a mock. The test fills and frees it through /proc/<pid>/root.
import { mkdir, mkdtemp, open, readdir, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import {
  appsConnector,
  FAST_RETRY,
  smartHostConnector,
  submit,
} from "#test/support/fault-relay.ts";
import { type RelayChild, startRelayChild } from "#test/support/relay-child.ts";
import { freePort, waitFor, writeRecords } from "#test/support/relay-process.ts";
import { startSink } from "#test/support/sink.ts";

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

/** The relay with the directory `queues` on a 1 MiB tmpfs of its own mount namespace. */
function startWithSmallQueues(home: string, queues: string): RelayChild {
  return startRelayChild(home, (argv) => [
    "unshare",
    "--map-root-user",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"',
    queues,
    ...argv,
  ]);
}

/** Writes until the file system says ENOSPC; resolves the bytes written. */
async function fill(path: string): Promise<number> {
  const fh = await open(path, "w");
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  let written = 0;
  try {
    for (;;) written += (await fh.write(chunk)).bytesWritten;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    await fh.close();
  }
  return written;
}

test("queue disk full: 451 4.3.0 for every message, no 250, nothing left behind; 250 again after space is freed", async () => {
  const home = await mkdtemp(join(tmpdir(), "relay-diskfull-"));
  cleanup.push(() => rm(home, { recursive: true, force: true }));
  const out = await startSink();
  cleanup.push(() => out.close());
  const port = await freePort();
  await writeRecords(home, [
    appsConnector(port),
    FAST_RETRY,
    smartHostConnector(`127.0.0.1:${out.port}`),
  ]);
  const queues = join(home, "queues");
  await mkdir(queues, { recursive: true });
  const relay = startWithSmallQueues(home, queues);
  cleanup.push(() => relay.kill());
  await relay.ready();
  // The queue directory as the relay sees it, inside its mount namespace.
  const seen = join(`/proc/${relay.pid}/root`, queues);
  const msg = (subject: string, body?: string) =>
    submit(port, {
      from: "app@example.com",
      to: ["rcpt@example.net"],
      subject,
      ...(body ? { body } : {}),
    });

  const before = await msg("before");
  expect(before.reply.code).toBe(250);
  await waitFor("the first message at the sink", () => out.received.length === 1);

  const filler = join(seen, "filler");
  expect(await fill(filler)).toBeGreaterThan(0);
  const refused = [];
  for (let i = 0; i < 4; i++) refused.push(await msg(`full ${i}`));
  // A claim-check body goes to the body store first (another disk); the queue write then fails.
  refused.push(await msg("full large", `${"z".repeat(998)}\r\n`.repeat(250)));
  for (const r of refused) expect(r.reply.text).toMatch(/^451 4\.3\.0 /);
  expect(refused.filter((r) => r.reply.code === 250)).toEqual([]);
  expect(relay.stderr()).toMatch(/could not queue message/);
  expect(relay.stderr()).toMatch(/ENOSPC|no space left|disk is full/i);
  // Nothing half-written: the database and its WAL only (a failed commit is rolled back), no orphan body.
  expect((await readdir(seen)).sort()).toEqual([
    "filler",
    "queues.db",
    "queues.db-shm",
    "queues.db-wal",
  ]);
  expect((await readdir(join(home, "bodies"))).filter((f) => f !== ".tmp")).toEqual([]);

  await unlink(filler);
  const after = await msg("after");
  expect(after.reply.code).toBe(250);
  await waitFor("the second message at the sink", () => out.received.length === 2);
  // Give anything wrongly spooled during the outage time to surface (retries run every second).
  await new Promise((r) => setTimeout(r, 2500));
  const subjects = out.received.map((m) => /^Subject: (.*)$/m.exec(m.raw.toString())?.[1]);
  expect(subjects).toEqual(["before", "after"]);

  expect(await relay.stop()).toBe(0);
});
