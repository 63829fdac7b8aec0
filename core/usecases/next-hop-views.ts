// What an admin sees of next-hop state: each host's circuit, and Get-Queue's Status, LastError and NextRetryTime with throttles and open circuits.
import type { NextHopGovernor } from "../next-hop/governor.ts";
import { parseHostPort } from "../records/common.ts";
import type { SendConnector } from "../records/send-connector.ts";
import type { QueueView } from "./admin-views.ts";

export interface HostCircuitView {
  host: string;
  /** Closed: in use. Open: skipped until `until`. HalfOpen: the next job probes it. */
  state: "Closed" | "Open" | "HalfOpen";
  until?: string;
  failures: number;
  lastError?: string;
}

/** The circuit of every smart host of a connector (MX hosts are known only after a lookup). */
export async function connectorCircuits(
  governor: NextHopGovernor,
  c: SendConnector,
): Promise<HostCircuitView[]> {
  const now = governor.now();
  const out: HostCircuitView[] = [];
  for (const text of c.dnsRoutingEnabled ? [] : c.smartHosts) {
    const hp = parseHostPort(text);
    if (!hp) continue;
    const port = hp.port ?? c.port;
    const circuit = await governor.circuit(hp.host, port);
    const until = Math.max(circuit?.openUntil ?? 0, circuit?.probeUntil ?? 0);
    const view: HostCircuitView = {
      host: `${hp.host}:${port}`,
      state: !circuit?.openUntil ? "Closed" : until > now ? "Open" : "HalfOpen",
      failures: circuit?.failures ?? 0,
    };
    if (circuit?.openUntil && until > now) view.until = new Date(until).toISOString();
    if (circuit?.lastError && circuit.failures > 0) view.lastError = circuit.lastError;
    out.push(view);
  }
  return out;
}

export type QueueViewWithHop = QueueView & {
  /** The next hop's shared state: a throttle backoff and the circuits of its smart hosts. */
  nextHopState?: { throttledUntil?: string; circuits?: HostCircuitView[] };
};

/**
 * Get-Queue's Status from the next hop as well as its messages, as Exchange shows it: a queue
 * whose next hop is backed off after a throttle reply, or whose every smart host has an open
 * circuit, is in Retry, with that reason as LastError and its end as NextRetryTime. A queue the
 * admin suspended stays Suspended.
 */
export async function withNextHopState(
  views: QueueView[],
  governor: NextHopGovernor,
  connectors: SendConnector[],
): Promise<QueueViewWithHop[]> {
  const now = governor.now();
  const out: QueueViewWithHop[] = [];
  for (const v of views) {
    if (v.deliveryType !== "MX" && v.deliveryType !== "SmartHost") {
      out.push(v);
      continue;
    }
    const view: QueueViewWithHop = { ...v };
    const state: NonNullable<QueueViewWithHop["nextHopState"]> = {};
    const retry = (lastError: string, until: string) => {
      if (view.status !== "Suspended") view.status = "Retry";
      view.lastError = lastError;
      if (!view.nextRetryTime || until > view.nextRetryTime) view.nextRetryTime = until;
    };
    const hop = await governor.hop(v.nextHopDomain);
    const t = hop?.throttle;
    if (t && t.until > now) {
      state.throttledUntil = new Date(t.until).toISOString();
      retry(`Throttled by the next hop: ${t.lastError}`, state.throttledUntil);
    }
    const connector = connectors.find((c) => c.name.toLowerCase() === v.connector?.toLowerCase());
    if (connector && v.deliveryType === "SmartHost") {
      const circuits = await connectorCircuits(governor, connector);
      state.circuits = circuits;
      const open = circuits.filter((c) => c.state === "Open");
      if (open.length && open.length === circuits.length) {
        const soonest = open.map((c) => c.until ?? "").sort()[0] ?? "";
        retry(
          `Circuit open for every smart host: ${open[0]?.lastError ?? "connection failures"}`,
          soonest,
        );
      }
    }
    if (state.throttledUntil || state.circuits?.length) view.nextHopState = state;
    out.push(view);
  }
  return out;
}
