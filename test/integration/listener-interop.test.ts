// Interop with real SMTP clients: swaks (STARTTLS + AUTH PLAIN and LOGIN) and Postfix's smtp-source (one message per connection).
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { hashPassword } from "#core/auth/password.ts";
import {
  acceptedDomain,
  receiveConnector,
  startTestListener,
  type TestListener,
} from "#test/support/listener.ts";

const run = promisify(execFile);
const PASSWORD = "s3cret pass";
let dir: string;
let caFile: string;
let t: TestListener | undefined;

beforeAll(async () => {
  // Debian's swaks only recommends Net::SSLeay; without it STARTTLS is silently unavailable.
  const { stdout } = await run("swaks", ["--support"]).catch((e: { stdout: string }) => e);
  if (!/=== TLS supported/.test(stdout))
    throw new Error("swaks has no TLS support: install libnet-ssleay-perl next to swaks");
  dir = await mkdtemp(join(tmpdir(), "listener-interop-"));
  caFile = join(dir, "ca.pem");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

async function start() {
  t = await startTestListener([
    receiveConnector("Default", { bindings: ["127.0.0.1:25"] }),
    receiveConnector("Client", {
      bindings: ["127.0.0.1:587"],
      permissionGroups: ["Users"],
      requireTls: true,
    }),
    acceptedDomain("contoso.com"),
    { kind: "SmtpUser", name: "scanner", passwordHash: await hashPassword(PASSWORD) },
  ]);
  await writeFile(caFile, t.ca);
  return t;
}

test.each(["PLAIN", "LOGIN"])(
  "swaks: STARTTLS, AUTH %s, relay to an external domain",
  async (mech) => {
    await start();
    const { stdout } = await run(
      "swaks",
      [
        "--server",
        "127.0.0.1",
        "--port",
        String(t!.port("127.0.0.1:587")),
        "--ehlo",
        "swaks.example",
        "--tls",
        "--tls-verify",
        "--tls-ca-path",
        caFile,
        "--auth",
        mech,
        "--auth-user",
        "scanner",
        "--auth-password",
        PASSWORD,
        "--from",
        "scanner@contoso.com",
        "--to",
        "someone@fabrikam.com",
        "--header",
        "Subject: swaks interop",
      ],
      { timeout: 20_000 },
    );
    const m = t!.queue.peek()[0]?.body;
    expect(m).toMatchObject({
      envelope: { mailFrom: "scanner@contoso.com", rcptTo: ["someone@fabrikam.com"] },
      origin: {
        receiveConnector: "Client",
        authUser: "scanner",
        tls: true,
        clientHelo: "swaks.example",
      },
      subject: "swaks interop",
    });
    expect(stdout).toContain(`<~  250 2.6.0 <${m!.id}> Queued mail for delivery`);
    expect(stdout).toContain("<~  235 2.7.0 Authentication successful");
  },
);

test("swaks: a wrong password is refused 535 5.7.3 and nothing is queued", async () => {
  await start();
  const result = await run(
    "swaks",
    [
      "--server",
      "127.0.0.1",
      "--port",
      String(t!.port("127.0.0.1:587")),
      "--tls",
      "--tls-ca-path",
      caFile,
      "--auth",
      "PLAIN",
      "--auth-user",
      "scanner",
      "--auth-password",
      "wrong",
      "--from",
      "scanner@contoso.com",
      "--to",
      "someone@fabrikam.com",
    ],
    { timeout: 20_000 },
  ).catch((error: { code: number; stdout: string }) => error);
  expect("code" in result && result.code).toBeTruthy();
  expect(result.stdout).toContain("<~* 535 5.7.3 Authentication unsuccessful");
  expect(t!.queue.size).toBe(0);
});

test("smtp-source: 20 messages over 4 parallel sessions, one connection per message, all queued", async () => {
  await start();
  await run(
    "smtp-source",
    [
      "-s",
      "4",
      "-m",
      "20",
      "-l",
      "2048",
      "-f",
      "app@example.org",
      "-t",
      "ops@contoso.com",
      "-M",
      "source.example",
      `127.0.0.1:${t!.port("127.0.0.1:25")}`,
    ],
    // Postfix installs it in /usr/sbin, which is not on a Debian user's PATH.
    { timeout: 30_000, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } },
  );
  const queued = t!.queue.peek().map((q) => q.body);
  expect(queued).toHaveLength(20);
  expect(new Set(queued.map((m) => m.id)).size).toBe(20);
  expect(
    queued.every((m) => m.origin.type === "smtp" && m.origin.clientHelo === "source.example"),
  ).toBe(true);
});
