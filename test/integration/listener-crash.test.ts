// The listener as a process on the durable local queues: a kill mid-DATA queues nothing, a 250 survives a kill, SIGTERM drains.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { openQueueStore } from "#adapters/local/queue.ts";
import type { SubmittedMessage } from "#core/message.ts";
import { acceptedDomain, receiveConnector } from "#test/support/listener.ts";
import { RawSmtpClient } from "#test/support/smtp-client.ts";

const SCRIPT = join(import.meta.dirname, "../support/listener-process.ts");
let dir: string;
let child: ChildProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "listener-crash-"));
});
afterEach(async () => {
  child?.kill("SIGKILL");
  child = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Starts the listener process and resolves with its SMTP port. */
async function startProcess(env: Record<string, string> = {}): Promise<number> {
  const proc = spawn(process.execPath, [SCRIPT], {
    env: {
      ...process.env,
      QUEUES: join(dir, "queues.db"),
      BODIES_DIR: join(dir, "bodies"),
      RECORDS: JSON.stringify([receiveConnector("Default"), acceptedDomain("contoso.com")]),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = proc;
  let stderr = "";
  proc.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout?.on("data", (d) => {
      out += String(d);
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve((JSON.parse(line ?? "{}") as { port: number }).port);
    });
    proc.once("exit", (code) => reject(new Error(`listener exited ${code}: ${stderr}`)));
  });
}

function exited(proc: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null)
      return resolve({ code: proc.exitCode, signal: proc.signalCode });
    proc.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

async function openSession(port: number) {
  const c = await RawSmtpClient.connect({ host: "127.0.0.1", port });
  expect((await c.read()).code).toBe(220);
  await c.command("EHLO app.example");
  expect((await c.command("MAIL FROM:<a@example.org>")).code).toBe(250);
  expect((await c.command("RCPT TO:<b@contoso.com>")).code).toBe(250);
  return c;
}

async function spooled(): Promise<SubmittedMessage[]> {
  const store = openQueueStore(join(dir, "queues.db"));
  const got = (await store.queue<SubmittedMessage>("submission").receive(10)).map((m) => m.body);
  store.close();
  return got;
}

test.each([
  ["inline", "1000000"],
  ["claim check", "10"],
])(
  "SIGKILL in the middle of DATA (%s body) leaves nothing queued and no body",
  async (_kind, limit) => {
    const port = await startProcess({ INLINE_BODY_LIMIT: limit });
    const c = await openSession(port);
    expect((await c.command("DATA")).code).toBe(354);
    await new Promise<void>((resolve) => {
      c.write("Subject: half\r\n\r\n");
      c.write(`${"x".repeat(64 * 1024)}\r\n`);
      // Give the listener time to read what was sent; the assertion does not depend on it.
      setTimeout(resolve, 200);
    });
    child!.kill("SIGKILL");
    await exited(child!);
    c.destroy();
    expect(await spooled()).toEqual([]);
    const bodies = await readdir(join(dir, "bodies")).catch(() => []);
    expect(bodies.filter((f) => !f.startsWith("."))).toEqual([]);
  },
);

test("a message answered 250 survives a SIGKILL right after the reply", async () => {
  const port = await startProcess({ INLINE_BODY_LIMIT: "10" });
  const c = await openSession(port);
  await c.command("DATA");
  c.write("Subject: kept\r\n\r\nbody\r\n.\r\n");
  const reply = await c.read();
  child!.kill("SIGKILL");
  await exited(child!);
  c.destroy();
  const id = /^250 2\.6\.0 <([^>]+)> Queued mail for delivery$/.exec(reply.text)?.[1];
  expect(id).toBeDefined();
  const [m] = await spooled();
  expect(m).toMatchObject({ id, subject: "kept", body: { storeKey: id } });
  expect(await readdir(join(dir, "bodies"))).toContain(id);
});

test("SIGTERM: the idle session is told 421 and the process exits 0", async () => {
  const port = await startProcess();
  const c = await RawSmtpClient.connect({ host: "127.0.0.1", port });
  await c.read();
  await c.command("EHLO app.example");
  child!.kill("SIGTERM");
  expect((await c.read()).text).toMatch(/^421 4\.3\.2 /);
  expect(await exited(child!)).toEqual({ code: 0, signal: null });
});

test("the container entry without its environment exits 1 and says why", async () => {
  const proc = spawn(process.execPath, [join(import.meta.dirname, "../../listener/main.ts")], {
    env: { PATH: process.env.PATH ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += String(d);
  });
  expect(await exited(proc)).toEqual({ code: 1, signal: null });
  const line = JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
  expect(line).toMatchObject({
    level: "ERROR",
    message: "listener failed to start",
    service: "relay-listener",
  });
  expect(JSON.stringify(line)).toMatch(/RELAY_\w+ is not set/);
});
