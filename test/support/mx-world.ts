// Two scripted MX sinks behind a loopback DNS server: fabrikam.test (the recipients) and contoso.test (the senders, for NDRs).
import { Resolver } from "node:dns/promises";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startDnsServer, type TestDnsServer } from "./dns-server.ts";
import { type Sink, startSink } from "./sink.ts";

export interface MxWorld {
  /** fabrikam.test's MX, mx1.fabrikam.test at 127.0.0.2. */
  readonly mx: Sink;
  /** contoso.test's MX, mail.contoso.test at 127.0.0.4, on the same port. */
  readonly senderMx: Sink;
  readonly dns: TestDnsServer;
}

/** Starts the world once per file; each test starts with both sinks unscripted and empty. */
export function useMxWorld(): MxWorld {
  let mx: Sink | undefined;
  let senderMx: Sink | undefined;
  let dns: TestDnsServer | undefined;
  beforeAll(async () => {
    mx = await startSink({ host: "127.0.0.2" });
    senderMx = await startSink({ host: "127.0.0.4", port: mx.port });
    dns = await startDnsServer({
      "fabrikam.test": { MX: [{ exchange: "mx1.fabrikam.test", priority: 10 }] },
      "mx1.fabrikam.test": { A: ["127.0.0.2"] },
      "contoso.test": { MX: [{ exchange: "mail.contoso.test", priority: 10 }] },
      "mail.contoso.test": { A: ["127.0.0.4"] },
    });
    // The test relay's DNS timeout is short (300 ms); the first answer of a fresh server can take longer.
    const warm = new Resolver();
    warm.setServers([dns.address]);
    await warm.resolveMx("fabrikam.test");
  });
  afterAll(async () => {
    await Promise.all([mx?.close(), senderMx?.close(), dns?.close()]);
  });
  afterEach(() => {
    for (const s of [mx, senderMx]) {
      if (!s) continue;
      s.script = {};
      s.received.length = 0;
      s.rcptSeen.length = 0;
    }
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("the MX world starts in beforeAll");
    return v;
  };
  return {
    get mx() {
      return started(mx);
    },
    get senderMx() {
      return started(senderMx);
    },
    get dns() {
      return started(dns);
    },
  };
}
