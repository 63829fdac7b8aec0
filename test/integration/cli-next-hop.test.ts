// queue get and route explain against a running local relay whose smart host is dead: the circuit shows in Get-Queue's Status and in the route, then a cost-2 connector takes the mail.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { QueueView } from "#core/usecases/admin-views.ts";
import type { QueueViewWithHop } from "#core/usecases/next-hop-views.ts";
import { type CliRelay, startCliRelay, submit, waitFor } from "#test/support/cli-relay.ts";
import { closedPort } from "#test/support/next-hop-fixtures.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let sink: Sink;
let r: CliRelay;
let dead: number;

beforeAll(async () => {
  sink = await startSink();
  dead = await closedPort();
  r = await startCliRelay([
    {
      kind: "SendConnector",
      name: "Primary",
      addressSpaces: [{ domain: "fabrikam.com", cost: 1 }],
      dnsRoutingEnabled: false,
      smartHosts: [`127.0.0.1:${dead}`],
    },
    {
      kind: "TransportSettings",
      name: "default",
      retrySchedule: [{ intervalSeconds: 2, count: 100 }],
    },
  ]);
}, 30_000);
afterAll(async () => {
  await r?.stop();
  await sink?.close();
});

describe("a dead smart host in the admin's views", () => {
  test("queue get: Retry with the circuit's LastError and NextRetryTime; route explain: the cost-2 connector wins", async () => {
    const queue = `127.0.0.1:${dead}`;
    const ids: string[] = [];
    for (const to of ["a", "b", "c"])
      ids.push(await submit(r.port, "alice@contoso.com", [`${to}@fabrikam.com`]));
    let q: QueueViewWithHop | undefined;
    await waitFor("the circuit open in queue get", async () => {
      q = (await r.json<QueueViewWithHop[]>(["queue", "get"])).find((x) => x.identity === queue);
      return q?.nextHopState?.circuits?.[0]?.state === "Open";
    });
    expect(q).toMatchObject({
      status: "Retry",
      lastError: expect.stringMatching(
        /^Circuit open for every smart host: 127\.0\.0\.1.*451 4\.4\.1 Unable to connect/,
      ),
      nextRetryTime: q?.nextHopState?.circuits?.[0]?.until,
    });
    const table = await r.cli(["queue", "get"]);
    expect(table.stdout).toMatch(
      new RegExp(`^${queue.replace(/\./g, "\\.")}\\s+SmartHost\\s+Retry\\s+3\\s`, "m"),
    );

    const added = await r.cli([
      "send-connector",
      "new",
      "--name",
      "Backup",
      "--address-spaces",
      "fabrikam.com;2",
      "--smart-hosts",
      `127.0.0.1:${sink.port}`,
      "--max-per-domain-outbound-connections",
      "2",
      "--max-messages-per-minute",
      "600",
    ]);
    expect(added.stderr).toBe("");
    const explained = await r.json<{
      selected: { connector: string };
      candidates: {
        connector: string;
        verdict: string;
        reason: string;
        circuits?: { state: string }[];
      }[];
    }>(["route", "explain", "--to", "d@fabrikam.com", "--from", "alice@contoso.com", "--json"]);
    expect(explained.selected.connector).toBe("Backup");
    const primary = explained.candidates.find((c) => c.connector === "Primary");
    expect(primary).toMatchObject({ verdict: "ineligible", circuits: [{ state: "Open" }] });
    expect(primary?.reason).toMatch(
      /^every smart host has an open circuit \(127\.0\.0\.1:\d+ until /,
    );
    const text = await r.cli(["route", "explain", "--to", "d@fabrikam.com"]);
    expect(text.stdout).toMatch(/Connector\s+Verdict\s+AddressSpace\s+Circuits\s+Reason/);
    expect(text.stdout).toMatch(/^Backup\s+selected\s+fabrikam\.com;2\s+127\.0\.0\.1:\d+ Closed/m);

    // The relay's retries now fail over to Backup: every message reaches the sink.
    await waitFor("all three delivered through Backup", () => sink.received.length === 3, 30_000);
    expect(
      (await r.json<QueueView[]>(["queue", "get"])).find((x) => x.identity === queue),
    ).toBeUndefined();
  }, 60_000);

  test("bad limit values are refused, naming the flag", async () => {
    const bad = await r.cli([
      "send-connector",
      "set",
      "--name",
      "Primary",
      "--max-per-domain-outbound-connections",
      "0",
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/maxPerDomainOutboundConnections.*at least 1 connection/);
  });
});
