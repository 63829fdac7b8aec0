// Record changes, troubleshooting verbs and bad input, the CLI as a child process beside a running local relay (resolve-mx: cli-resolve-mx.test.ts).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type CliRelay, startCliRelay, waitFor } from "#test/support/cli-relay.ts";
import { freePort } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";
import { RawSmtpClient } from "#test/support/smtp-client.ts";

let r: CliRelay;
let sink: Sink;
let defaultPort: number;
let submissionPort: number;
const PASSWORD = "Scan-Pass-1";

beforeAll(async () => {
  sink = await startSink();
  defaultPort = await freePort();
  submissionPort = await freePort();
  r = await startCliRelay([
    {
      kind: "ReceiveConnector",
      name: "Default",
      bindings: [`127.0.0.1:${defaultPort}`],
      remoteIpRanges: ["0.0.0.0/0"],
      authMechanisms: ["None"],
      banner: "relay.contoso.com before",
      // Refusals are answered at once: the test polls with them.
      tarpitInterval: 0,
    },
    {
      kind: "ReceiveConnector",
      name: "Client Submission",
      bindings: [`127.0.0.1:${submissionPort}`],
      remoteIpRanges: ["0.0.0.0/0"],
      authMechanisms: ["Tls", "BasicAuthRequireTls"],
      permissionGroups: ["Users"],
      requireTls: true,
    },
    { kind: "AcceptedDomain", domain: "contoso.com" },
    { kind: "SendConnector", name: "To Internet", addressSpaces: [{ domain: "*", cost: 1 }] },
    { kind: "SendConnector", name: "Backup", addressSpaces: [{ domain: "*", cost: 2 }] },
    {
      kind: "SendConnector",
      name: "Fabrikam",
      addressSpaces: [{ domain: "fabrikam.com", cost: 5 }],
      dnsRoutingEnabled: false,
      smartHosts: [`127.0.0.1:${sink.port}`],
    },
  ]);
}, 30_000);
afterAll(async () => {
  await r?.stop();
  await sink?.close();
});

/** A new SMTP session on the Default connector: its greeting and the reply to one RCPT. */
async function session(rcpt: string): Promise<{ greeting: string; rcpt: number }> {
  const c = await RawSmtpClient.connect({ host: "127.0.0.1", port: defaultPort });
  const greeting = (await c.read()).text;
  await c.command("EHLO app.contoso.com");
  await c.command("MAIL FROM:<app@contoso.com>");
  const reply = await c.command(`RCPT TO:<${rcpt}>`);
  c.destroy();
  return { greeting, rcpt: reply.code };
}

describe("record verbs on a running relay", () => {
  test("a new accepted domain and a new banner reach the next SMTP session without a restart", async () => {
    const before = await session("someone@tailspin.com");
    expect(before).toEqual({ greeting: expect.stringContaining("before"), rcpt: 550 });
    expect(
      (
        await r.cli([
          "accepted-domain",
          "new",
          "--domain",
          "tailspin.com",
          "--type",
          "Authoritative",
        ])
      ).code,
    ).toBe(0);
    expect(
      (
        await r.cli([
          "receive-connector",
          "set",
          "--name",
          "default",
          "--banner",
          "relay.contoso.com after",
        ])
      ).code,
    ).toBe(0);
    // For the AUTH test below, so it needs no wait of its own.
    const user = await r.cli(["user", "new", "--name", "scanner"], { RELAY_PASSWORD: PASSWORD });
    expect(user.code).toBe(0);
    // The listener re-reads records every 5 s; a little slack for the re-read itself.
    await waitFor(
      "the change in a new session",
      async () => {
        const s = await session("someone@tailspin.com");
        return s.rcpt === 250 && s.greeting.includes("relay.contoso.com after");
      },
      6_000,
    );
  });

  test("bad input is refused with exit 2 naming the flag; an unknown connector is exit 3; the relay keeps running", async () => {
    const unknownFlag = await r.cli([
      "send-connector",
      "new",
      "--name",
      "X",
      "--adress-spaces",
      "*;1",
    ]);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/unknown option --adress-spaces/);

    const badSpace = await r.cli([
      "send-connector",
      "new",
      "--name",
      "Bad",
      "--address-spaces",
      "*contoso.com;1",
    ]);
    expect(badSpace.code).toBe(2);
    expect(badSpace.stderr).toMatch(
      /--address-spaces \(addressSpaces\[0\]\.domain\): not a valid address space/,
    );

    expect(
      (
        await r.cli([
          "receive-connector",
          "new",
          "--name",
          "Printers",
          "--bindings",
          `127.0.0.1:${defaultPort}`,
          "--remote-ip-ranges",
          "192.168.1.0/24",
        ])
      ).code,
    ).toBe(0);
    const overlap = await r.cli([
      "receive-connector",
      "new",
      "--name",
      "Scanners",
      "--bindings",
      `127.0.0.1:${defaultPort}`,
      "--remote-ip-ranges",
      "192.168.1.128-192.168.2.10",
    ]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toMatch(
      /--remote-ip-ranges \(remoteIpRanges\): range 192\.168\.1\.128-192\.168\.2\.10 partly overlaps 192\.168\.1\.0\/24 of "Printers"/,
    );

    const unknown = await r.cli(["send-connector", "set", "--name", "Nope", "--enabled"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(
      /SendConnector "Nope" not found; list them with relay send-connector get/,
    );
    const unknownReceive = await r.cli(["receive-connector", "remove", "--name", "Nope"]);
    expect(unknownReceive.code).toBe(3);

    const validate = await r.cli(["records", "validate", "--json"]);
    expect(validate.code).toBe(0);
    expect(JSON.parse(validate.stdout)).toMatchObject({ ok: true, problems: [] });
    expect((await session("user@contoso.com")).rcpt).toBe(250);
  });

  test("queue, message and track verbs refuse bad input with the documented exit codes", async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [["queue", "get", "--bogus"], 2, /relay queue get: unknown option --bogus/],
      [["queue", "get", "--identity", "nowhere.example"], 3, /queue "nowhere.example" not found/],
      [["message", "get", "--queue", "nowhere.example"], 3, /queue "nowhere.example" not found/],
      [["message", "suspend"], 2, /the message id is required/],
      [["message", "suspend", "not-an-id"], 2, /"not-an-id" is not a message id/],
      [
        ["message", "resume", "20261124T000000Z-000000000000"],
        3,
        /message 20261124T000000Z-000000000000 not found/,
      ],
      [["message", "remove", "--with-ndr", "a", "b"], 2, /unexpected argument "b"/],
      [["message", "bounce", "20261124T000000Z-000000000000"], 2, /unknown verb "bounce"/],
      [["track", "--message-id", "20261124T000000Z-000000000000"], 3, /no tracking events/],
      [["track", "--event-id", "SENT"], 2, /--event-id: "SENT" is not one of RECEIVE, ROUTE/],
      [
        ["route", "explain", "--to", "not-an-address"],
        2,
        /--to: "not-an-address" is not an email address/,
      ],
      [
        ["route", "explain", "--to", "a@b.com", "--receive-connector", "Nope"],
        3,
        /ReceiveConnector "Nope" not found/,
      ],
      [
        ["resolve-mx", "example.net", "--dns-servers", "dns.example"],
        2,
        /--dns-servers: "dns.example" is not an IP address/,
      ],
      [
        ["test", "send", "--server", "127.0.0.1:25", "--from", "a@contoso.com"],
        2,
        /--to is required/,
      ],
    ];
    for (const [args, code, message] of cases) {
      const got = await r.cli(args);
      expect({ args, code: got.code, stderr: got.stderr }).toEqual({
        args,
        code,
        stderr: expect.stringMatching(message),
      });
    }
  });
});

describe("route explain", () => {
  test("names the connector that carries the recipient and why every other lost", async () => {
    const r1 = await r.json<{
      selected: { connector: string; nextHopKey: string };
      candidates: Array<{ connector: string; verdict: string; reason: string }>;
    }>(["route", "explain", "--to", "bob@fabrikam.com", "--from", "app@contoso.com"]);
    expect(r1.selected).toMatchObject({
      connector: "Fabrikam",
      nextHopKey: `127.0.0.1:${sink.port}`,
    });
    const byName = Object.fromEntries(r1.candidates.map((c) => [c.connector, c]));
    expect(r1.candidates).toHaveLength(3);
    expect(byName).toEqual({
      "To Internet": {
        connector: "To Internet",
        verdict: "lost",
        reason: 'less specific address space "*" than "fabrikam.com"',
        addressSpace: { domain: "*", cost: 1 },
      },
      Backup: {
        connector: "Backup",
        verdict: "lost",
        reason: 'less specific address space "*" than "fabrikam.com"',
        addressSpace: { domain: "*", cost: 2 },
      },
      Fabrikam: {
        connector: "Fabrikam",
        verdict: "selected",
        reason: 'address space "fabrikam.com" cost 5',
        addressSpace: { domain: "fabrikam.com", cost: 5 },
        // The running relay keeps next-hop state: each smart host's circuit, closed while it answers.
        circuits: [{ host: `127.0.0.1:${sink.port}`, state: "Closed", failures: 0 }],
      },
    });
    const human = await r.cli(["route", "explain", "--to", "someone@example.net", "--size", "1MB"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /someone@example\.net: send connector "To Internet" \(address space "\*" cost 1\), next hop example\.net by MX/,
    );
    expect(human.stdout).toMatch(/Backup\s+lost\s+\*;2\s+higher cost 2 than 1/);
    expect(human.stdout).toMatch(
      /Fabrikam\s+ineligible\s+127\.0\.0\.1:\d+ Closed\s+no address space matches "example\.net"/,
    );
  });
});

describe("test send", () => {
  test("a transaction the server accepts: exit 0 with the transcript; a refused one: exit 1 with the reply", async () => {
    const server = `127.0.0.1:${defaultPort}`;
    const ok = await r.cli([
      "test",
      "send",
      "--server",
      server,
      "--from",
      "app@contoso.com",
      "--to",
      "user@contoso.com",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^< 220 relay\.contoso\.com/m);
    expect(ok.stdout).toMatch(/^> MAIL FROM:<app@contoso\.com>/m);
    expect(ok.stdout).toMatch(
      /user@contoso\.com: delivered \(127\.0\.0\.1\) 250 2\.6\.0 <\d{8}T\d{6}Z-[0-9a-f]{12}> Queued mail for delivery/,
    );

    const refused = await r.cli([
      "test",
      "send",
      "--server",
      server,
      "--from",
      "app@contoso.com",
      "--to",
      "someone@example.org",
      "--json",
    ]);
    expect(refused.code).toBe(1);
    const body = JSON.parse(refused.stdout);
    expect(body).toMatchObject({
      ok: false,
      server,
      results: [
        {
          recipient: "someone@example.org",
          status: "permanent",
          reply: expect.stringMatching(/^550 5\.7\.54 /),
        },
      ],
    });
    expect(body.transcript).toEqual(
      expect.arrayContaining([{ direction: ">", line: "RCPT TO:<someone@example.org>" }]),
    );
  });

  test("--auth-user upgrades with STARTTLS, authenticates with RELAY_PASSWORD and never prints the credentials", async () => {
    const password = PASSWORD;
    const args = [
      "test",
      "send",
      "--server",
      `127.0.0.1:${submissionPort}`,
      "--from",
      "scanner@contoso.com",
      "--to",
      "bob@fabrikam.com",
      "--auth-user",
      "scanner",
    ];
    let last = { code: -1, stdout: "", stderr: "" };
    // The user (created in the first test) exists for the listener after its next record re-read.
    await waitFor(
      "AUTH to succeed",
      async () => {
        last = await r.cli(args, { RELAY_PASSWORD: password });
        return last.code === 0;
      },
      6_000,
    );
    expect(last.stdout).toMatch(/^> STARTTLS/m);
    expect(last.stdout).toMatch(/^> AUTH PLAIN \*\*\*\*/m);
    expect(last.stdout).not.toContain(password);
    expect(last.stdout).not.toContain(
      Buffer.from(`\u0000scanner\u0000${password}`).toString("base64"),
    );
    expect(last.stdout).toMatch(/bob@fabrikam\.com: delivered/);
    await waitFor("relay to the smart host", () =>
      sink.received.some((m) => m.rcptTo.includes("bob@fabrikam.com")),
    );
  });
});
