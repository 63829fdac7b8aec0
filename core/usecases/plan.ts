// Planning delivery for a set of recipients: one send connector per domain, recipients grouped per (connector, next hop).
import type { NextHop } from "../message.ts";
import type { AddressSpace, SendConnector } from "../records/send-connector.ts";
import { normalizeDomain } from "../routing/address-space.ts";
import { nextHopFor, selectSendConnector } from "../routing/select.ts";

export interface RouteGroup {
  connector: SendConnector;
  addressSpace: AddressSpace;
  nextHop: NextHop;
  nextHopKey: string;
  recipients: string[];
}

export interface RoutePlan {
  groups: RouteGroup[];
  /** Recipients no send connector takes, with the selection's reason (for the log, not the NDR). */
  unroutable: { recipient: string; domain: string; reason: string }[];
}

export interface PlanQuery {
  sender: string;
  size: number;
  sourceConnector?: string;
}

export function domainOf(address: string): string {
  return normalizeDomain(address.slice(address.lastIndexOf("@") + 1));
}

/**
 * Exchange routes per recipient domain, then queues per next hop: recipients of one domain share a
 * connector, and domains that share a connector and next hop (smart hosts) share one job, so one
 * SMTP transaction carries them all.
 */
export function planRoutes(
  connectors: SendConnector[],
  query: PlanQuery,
  recipients: string[],
): RoutePlan {
  const byDomain = new Map<string, string[]>();
  for (const r of recipients) {
    const d = domainOf(r);
    byDomain.set(d, [...(byDomain.get(d) ?? []), r]);
  }
  const groups = new Map<string, RouteGroup>();
  const unroutable: RoutePlan["unroutable"] = [];
  for (const [domain, rcpts] of byDomain) {
    const route = selectSendConnector(connectors, { ...query, recipientDomain: domain });
    if (!route.ok) {
      for (const recipient of rcpts) unroutable.push({ recipient, domain, reason: route.reason });
      continue;
    }
    const { nextHop, nextHopKey } = nextHopFor(route.connector, domain);
    const key = `${route.connector.name}\u0000${nextHopKey}`;
    const group = groups.get(key);
    if (group) group.recipients.push(...rcpts);
    else
      groups.set(key, {
        connector: route.connector,
        addressSpace: route.addressSpace,
        nextHop,
        nextHopKey,
        recipients: [...rcpts],
      });
  }
  return { groups: [...groups.values()], unroutable };
}

/** FNV-1a, 32 bits, as hex: a short stable digest for ids (not for security). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * A delivery job id that is the same every time the message is routed to the same connector and
 * next hop, so a job emitted twice (a crash between emitting and tracking) is recognisably one job.
 */
export function deliveryJobId(messageId: string, connector: string, nextHopKey: string): string {
  return `${messageId}-${fnv1a(`${connector.toLowerCase()}\u0000${nextHopKey}`)}`;
}
