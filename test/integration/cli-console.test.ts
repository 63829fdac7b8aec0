// `relay console` as a child process: it prints the sign-in line, a change is saved and logged with before and after (secrets redacted), Ctrl-C stops it; a public address without TLS is refused.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runCli } from "#test/support/cli.ts";
import { waitFor, writeRecords } from "#test/support/relay-process.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "relay.mjs");
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "relay-console-"));
  await writeRecords(home, [{ kind: "AcceptedDomain", domain: "contoso.com" }]);
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

test("an address beyond loopback without a certificate is refused with the flags to give", async () => {
  const r = await runCli(["console", "--address", "0.0.0.0", "--port", "0"], { home });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(
    /beyond this machine: give a certificate and key \(--tls-cert, --tls-key/,
  );
});

test("it prints the sign-in address; a user saved through it is logged with who, before and after, the hash redacted", {
  timeout: 120_000,
}, async () => {
  const child = spawn(process.execPath, [BIN, "console", "--port", "0"], {
    env: { ...process.env, RELAY_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  try {
    await waitFor("the console line", () => /console: http\S+/.test(out), 60_000);
    const login = /console: (http\S+)/.exec(out)?.[1] ?? "";
    const origin = new URL(login).origin;
    const signed = await fetch(login, { redirect: "manual" });
    const cookie = (signed.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const form = await (await fetch(`${origin}/users/new`, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? "";
    const body = new URLSearchParams({
      _csrf: csrf,
      "f.name": "scanner",
      "f.allowedSenders": "scanner@contoso.com",
      password: "correct horse battery",
      confirm: "correct horse battery",
    });
    const saved = await fetch(`${origin}/users/new`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin, "content-type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    });
    expect(saved.status).toBe(303);
    const list = await (await fetch(`${origin}/users`, { headers: { cookie } })).text();
    expect(list).toContain("scanner@contoso.com");
    expect(list).not.toMatch(/scrypt|correct horse/);
    await waitFor("the change log line", () => err.includes('"console change"'));
    const line = JSON.parse(err.split("\n").find((l) => l.includes('"console change"')) ?? "{}");
    expect(line).toMatchObject({
      level: "INFO",
      service: "relay-console",
      action: "create",
      subject: 'SmtpUser "scanner"',
      who: expect.stringMatching(/ from 127\.0\.0\.1$/),
      after: {
        name: "scanner",
        allowedSenders: ["scanner@contoso.com"],
        passwordHash: "[redacted]",
      },
    });
    expect(line).not.toHaveProperty("before");
    expect(err).not.toMatch(/scrypt|correct horse/);
  } finally {
    child.kill("SIGINT");
  }
  expect(await exited).toBe(0);
});
