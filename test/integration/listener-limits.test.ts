// Submission rate limits and AUTH lockout over real sockets: 421 4.4.2 with nothing queued, 452 4.5.3, 454 4.7.0.
import { beforeAll, describe, expect, test } from "vitest";
import { MemoryRateCounterStore } from "#adapters/memory/rate-counter-store.ts";
import { hashPassword } from "#core/auth/password.ts";
import type { Metrics } from "#core/metrics.ts";
import { acceptedDomain, receiveConnector, useTestListener } from "#test/support/listener.ts";
import { plainToken, transaction } from "#test/support/smtp-client.ts";

const PASSWORD = "correct horse battery staple";
const MESSAGE = "Subject: scan\r\n\r\nattached\r\n";
let hash: string;
beforeAll(async () => {
  hash = await hashPassword(PASSWORD);
});

const h = useTestListener();
const user = (name: string, fields: Record<string, unknown> = {}) => ({
  kind: "SmtpUser",
  name,
  passwordHash: hash,
  ...fields,
});

/** A Client-style connector on 587 (STARTTLS, AUTH, Users may relay) and an anonymous one on 25. */
function records(client: Record<string, unknown> = {}, extra: Record<string, unknown>[] = []) {
  return [
    receiveConnector("Default", { bindings: ["127.0.0.1:25"] }),
    receiveConnector("Client", {
      bindings: ["127.0.0.1:587"],
      permissionGroups: ["Users"],
      ...client,
    }),
    acceptedDomain("contoso.com"),
    user("scanner"),
    user("billing"),
    ...extra,
  ];
}

async function session(from = "127.0.0.1", binding = "127.0.0.1:587") {
  const { client } = await h.open({ from, binding });
  await client.command("EHLO app.example");
  if (binding.endsWith(":587")) {
    expect((await client.startTls(h.t.ca)).code).toBe(220);
    await client.command("EHLO app.example");
  }
  return client;
}

async function signedIn(name: string, from = "127.0.0.1") {
  const c = await session(from);
  expect((await c.command(`AUTH PLAIN ${plainToken(name, PASSWORD)}`)).code).toBe(235);
  return c;
}

const EXCEEDED =
  "421 4.4.2 Message submission rate for this client has exceeded the configured limit";

describe("MessageRateLimit", () => {
  test("IPAddress: the message over the limit gets 421 4.4.2 at the end of DATA and is not queued", async () => {
    await h.start(records({ messageRateLimit: 2 }));
    const a = await signedIn("scanner");
    expect((await transaction(a, "a@contoso.com", ["x@fabrikam.com"], MESSAGE)).end?.code).toBe(
      250,
    );
    // Two sessions from one address pass MAIL FROM at 1 of 2; the second to end its DATA is refused.
    const b = await signedIn("billing");
    for (const c of [a, b]) {
      expect((await c.command(`MAIL FROM:<${c === a ? "a" : "billing"}@contoso.com>`)).code).toBe(
        250,
      );
      expect((await c.command("RCPT TO:<x@fabrikam.com>")).code).toBe(250);
      expect((await c.command("DATA")).code).toBe(354);
    }
    a.write(`${MESSAGE}.\r\n`);
    expect((await a.read()).code).toBe(250);
    b.write(`${MESSAGE}.\r\n`);
    expect((await b.read()).text).toBe(EXCEEDED);
    await b.closed();
    expect(h.t.queue.peek().map((m) => m.body.origin)).toMatchObject([
      { authUser: "scanner" },
      { authUser: "scanner" },
    ]);
    // A new connection from the same address is refused at MAIL FROM, before any data.
    const again = await signedIn("billing");
    expect((await again.command("MAIL FROM:<billing@contoso.com>")).text).toBe(EXCEEDED);
    await again.closed();
    expect(h.t.queue.peek()).toHaveLength(2);
    // Another address has its own allowance.
    const other = await signedIn("billing", "127.0.0.2");
    const sent = await transaction(other, "billing@contoso.com", ["x@fabrikam.com"], MESSAGE);
    expect(sent.end?.code).toBe(250);
    expect(h.t.logs).toContainEqual(
      expect.objectContaining({
        level: "info",
        message: "refused",
        fields: expect.objectContaining({
          code: 421,
          enhanced: "4.4.2",
          client: "127.0.0.1",
          rule: "messageRateLimit 2 exceeded (3)",
        }),
      }),
    );
  });

  test("User: counted per authenticated user across addresses; another user is not affected", async () => {
    await h.start(records({ messageRateLimit: 1, messageRateSource: "User" }));
    const a = await signedIn("scanner", "127.0.0.1");
    expect((await transaction(a, "a@contoso.com", ["x@fabrikam.com"], MESSAGE)).end?.code).toBe(
      250,
    );
    const b = await signedIn("scanner", "127.0.0.2");
    expect((await b.command("MAIL FROM:<a@contoso.com>")).text).toBe(EXCEEDED);
    await b.closed();
    const other = await signedIn("billing", "127.0.0.1");
    expect(
      (await transaction(other, "billing@contoso.com", ["x@fabrikam.com"], MESSAGE)).end?.code,
    ).toBe(250);
    expect(h.t.queue.peek().map((m) => m.body.origin)).toMatchObject([
      { authUser: "scanner" },
      { authUser: "billing" },
    ]);
  });

  test("All: the address is counted as well as the user", async () => {
    await h.start(records({ messageRateLimit: 1, messageRateSource: "All" }));
    const a = await signedIn("scanner");
    expect((await transaction(a, "a@contoso.com", ["x@fabrikam.com"], MESSAGE)).end?.code).toBe(
      250,
    );
    const b = await signedIn("billing");
    expect((await b.command("MAIL FROM:<billing@contoso.com>")).text).toBe(EXCEEDED);
    expect(h.t.queue.peek()).toHaveLength(1);
  });

  test("without messageRateLimit there is no limit (Exchange's Unlimited)", async () => {
    await h.start(records());
    const c = await session("127.0.0.1", "127.0.0.1:25");
    for (let i = 0; i < 5; i++)
      expect((await transaction(c, "a@example.org", ["ops@contoso.com"], MESSAGE)).end?.code).toBe(
        250,
      );
  });
});

describe("recipientRateLimit", () => {
  test("past the user's recipients per hour RCPT gets 452 4.5.3; the accepted ones are queued", async () => {
    await h.start(records({}, [user("bulk", { recipientRateLimit: 3 })]));
    const c = await signedIn("bulk");
    const r = await transaction(
      c,
      "bulk@contoso.com",
      ["a@fabrikam.com", "b@fabrikam.com"],
      MESSAGE,
    );
    expect(r.end?.code).toBe(250);
    const more = await transaction(
      c,
      "bulk@contoso.com",
      ["c@fabrikam.com", "d@fabrikam.com"],
      MESSAGE,
    );
    expect(more.rcpt.map((x) => x.text)).toEqual([
      "250 2.1.5 Accepted",
      "452 4.5.3 Recipient submission rate for this user has exceeded the configured limit",
    ]);
    expect(more.end?.code).toBe(250);
    expect(h.t.queue.peek().map((m) => m.body.envelope.rcptTo)).toEqual([
      ["a@fabrikam.com", "b@fabrikam.com"],
      ["c@fabrikam.com"],
    ]);
    // Another user is not limited by it.
    const other = await signedIn("scanner");
    expect((await transaction(other, "a@contoso.com", ["e@fabrikam.com"], MESSAGE)).end?.code).toBe(
      250,
    );
  });
});

describe("AUTH lockout", () => {
  const settings = (fields: Record<string, unknown>) => ({ kind: "TransportSettings", ...fields });
  const LOCKED = "454 4.7.0 Temporary authentication failure";
  const tryAuth = async (c: Awaited<ReturnType<typeof session>>, name: string, password: string) =>
    (await c.command(`AUTH PLAIN ${plainToken(name, password)}`)).text;

  test("after N failures from one address every AUTH from it gets 454 4.7.0, even the right password; logged and counted", async () => {
    const counted: Array<[string, Record<string, string> | undefined]> = [];
    const metrics: Metrics = { count: (name, dims) => counted.push([name, dims]) };
    await h.start(records({}, [settings({ lockoutThresholdPerIp: 3 })]), {}, { metrics });
    const c = await session();
    for (const name of ["admin", "info", "scanner"])
      expect(await tryAuth(c, name, "guess")).toBe("535 5.7.3 Authentication unsuccessful");
    expect(await tryAuth(c, "scanner", PASSWORD)).toBe(LOCKED);
    expect(await tryAuth(await session(), "billing", PASSWORD)).toBe(LOCKED);
    // Another address is not locked.
    expect(await tryAuth(await session("127.0.0.2"), "billing", PASSWORD)).toMatch(/^235 /);
    const warn = h.t.logs.filter((l) => l.level === "warn" && l.message === "AUTH lockout");
    expect(warn).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({
          scope: "ip",
          client: "127.0.0.1",
          user: "scanner",
          failures: 3,
        }),
      }),
    ]);
    expect(counted).toEqual([["AuthLockout", { scope: "ip" }]]);
  });

  test("a user name guessed from two addresses is locked for both, and for the right password", async () => {
    await h.start(
      records({}, [settings({ lockoutThresholdPerIp: 10, lockoutThresholdPerUser: 4 })]),
    );
    const one = await session("127.0.0.1");
    const two = await session("127.0.0.2");
    for (const c of [one, two, one, two])
      expect(await tryAuth(c, "scanner", "guess")).toMatch(/^535 /);
    expect(await tryAuth(await session("127.0.0.3"), "scanner", PASSWORD)).toBe(LOCKED);
    // Other users from the same addresses still get in.
    expect(await tryAuth(one, "billing", PASSWORD)).toMatch(/^235 /);
    expect(h.t.logs).toContainEqual(
      expect.objectContaining({
        level: "warn",
        fields: expect.objectContaining({ scope: "user", user: "scanner", failures: 4 }),
      }),
    );
  });

  test("a successful AUTH does not reset an address that is guessing other names", async () => {
    await h.start(records({}, [settings({ lockoutThresholdPerIp: 3 })]));
    const c = await session();
    expect(await tryAuth(c, "admin", "guess")).toMatch(/^535 /);
    expect(await tryAuth(await session(), "scanner", PASSWORD)).toMatch(/^235 /);
    expect(await tryAuth(c, "info", "guess")).toMatch(/^535 /);
    expect(await tryAuth(await session(), "scanner", PASSWORD)).toMatch(/^235 /);
    expect(await tryAuth(c, "root", "guess")).toMatch(/^535 /);
    expect(await tryAuth(await session(), "scanner", PASSWORD)).toBe(LOCKED);
  });

  test("the lockouts live in the counter store given to the listener (here shared with the test)", async () => {
    const counters = new MemoryRateCounterStore();
    await h.start(records({}, [settings({ lockoutThresholdPerUser: 2 })]), {}, { counters });
    const c = await session();
    for (let i = 0; i < 2; i++) await tryAuth(c, "billing", "guess");
    expect((await counters.get("lock:user:billing"))?.count).toBe(2);
    await counters.delete("lock:user:billing");
    expect(await tryAuth(await session(), "billing", PASSWORD)).toMatch(/^235 /);
  });
});
