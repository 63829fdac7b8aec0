// Records and jobs shared by the next-hop limit tests of both runtimes: a sink connector with limits, a dead primary and a cost-2 backup.
import { createServer } from "node:net";
import type { DeliveryJob } from "#core/message.ts";
import { deliveryJobId } from "#core/usecases/plan.ts";
import { smartHostJob } from "./delivery-job.ts";
import type { Sink } from "./sink.ts";

/** A loopback port nothing listens on (bound, then closed): connections to it are refused at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** One-second retries and a two-second throttle backoff, so retries and backoffs end within a test. */
export const FAST_SETTINGS = {
  kind: "TransportSettings",
  retrySchedule: [{ intervalSeconds: 1, count: 20 }],
  throttleBackoffSeconds: 2,
  throttleRampSeconds: 1,
};

export function limitedConnector(sink: Sink, limits: Record<string, number>) {
  return {
    kind: "SendConnector",
    name: "Partner",
    addressSpaces: [{ domain: "fabrikam.test", cost: 1 }],
    dnsRoutingEnabled: false,
    smartHosts: [`127.0.0.1:${sink.port}`],
    ...limits,
  };
}

/** "Primary" (cost 1) through a dead smart host, "Backup" (cost 2) through the sink. */
export function failoverConnectors(sink: Sink, deadPort: number) {
  return [
    {
      kind: "SendConnector",
      name: "Primary",
      addressSpaces: [{ domain: "fabrikam.test", cost: 1 }],
      dnsRoutingEnabled: false,
      smartHosts: [`127.0.0.1:${deadPort}`],
    },
    {
      kind: "SendConnector",
      name: "Backup",
      addressSpaces: [{ domain: "fabrikam.test", cost: 2 }],
      dnsRoutingEnabled: false,
      smartHosts: [`127.0.0.1:${sink.port}`],
    },
  ];
}

/** The job route would emit for the dead primary's next hop. */
export function primaryJob(recipient: string, sink: Sink, deadPort: number): DeliveryJob {
  const job = smartHostJob(recipient, sink, "Primary");
  const hosts = [`127.0.0.1:${deadPort}`];
  return {
    ...job,
    jobId: deliveryJobId(job.messageId, "Primary", hosts.join(",")),
    nextHop: { type: "smarthost", hosts },
    nextHopKey: hosts.join(","),
  };
}

/** Scripts the sink: the first RCPT to first@fabrikam.test gets Gmail's throttle reply. Returns when each address was first seen. */
export function throttleFirstRcpt(sink: Sink): Map<string, number> {
  const rcptAt = new Map<string, number>();
  sink.script = {
    rcpt: (a) => {
      const again = rcptAt.has(a);
      if (!again) rcptAt.set(a, Date.now());
      return a === "first@fabrikam.test" && !again
        ? "421 4.7.28 Our system has detected an unusual rate of unsolicited mail"
        : undefined;
    },
  };
  return rcptAt;
}

/** Scripts the sink to accept every RCPT, noting when each arrived. */
export function rcptTimes(sink: Sink): number[] {
  const at: number[] = [];
  sink.script = {
    rcpt: () => {
      at.push(Date.now());
      return undefined;
    },
  };
  return at;
}
