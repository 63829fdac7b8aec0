// The next hop of a routed message, and the queue key an admin sees for it (Exchange's NextHopDomain).
import type { NextHop } from "../message.ts";
import type { SendConnector } from "../records/send-connector.ts";
import { normalizeDomain } from "./address-space.ts";

/**
 * MX connectors queue per recipient domain. Smart-host connectors queue per smart-host list: Exchange
 * shows that list as the queue's NextHopDomain, so every domain sent through one smart-host
 * connector shares one queue (and one retry state when the smart host is down).
 */
export function nextHopFor(
  connector: SendConnector,
  recipientDomain: string,
): { nextHop: NextHop; nextHopKey: string } {
  if (connector.dnsRoutingEnabled) {
    const domain = normalizeDomain(recipientDomain);
    return { nextHop: { type: "mx", domain }, nextHopKey: domain };
  }
  const hosts = [...connector.smartHosts];
  return { nextHop: { type: "smarthost", hosts }, nextHopKey: hosts.join(",") };
}
