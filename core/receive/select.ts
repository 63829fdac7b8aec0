// Which receive connector handles a connection, and which sockets the listener binds for them.
import {
  type IpRange,
  isUnspecified,
  normalizeIp,
  parseIp,
  parseRemoteIpRange,
  rangeSize,
} from "../net/ip-range.ts";
import { parseHostPort } from "../records/common.ts";
import type { ReceiveConnector } from "../records/receive-connector.ts";

export interface ConnectionInfo {
  /** The address the client connected to (the socket's local address). */
  localIp: string;
  localPort: number;
  /** The client's address — never the load balancer's (client-IP preservation or PROXY; docs/architecture.md). */
  remoteIp: string;
}

interface Binding {
  ip: string;
  port: number;
}

function parseBinding(text: string): Binding | undefined {
  const hp = parseHostPort(text);
  const ip = hp && normalizeIp(hp.host);
  return ip && hp.port !== undefined ? { ip, port: hp.port } : undefined;
}

interface Parsed {
  bindings: Array<{ ip: string; family: 4 | 6; value: bigint; port: number }>;
  ranges: Array<{ range: IpRange; size: bigint }>;
}

/**
 * A connector's bindings and RemoteIPRanges, parsed once per record object: every new connection
 * asks, and the record cache hands out the same objects until it reloads.
 */
const parsedByConnector = new WeakMap<ReceiveConnector, Parsed>();

function parsed(connector: ReceiveConnector): Parsed {
  let p = parsedByConnector.get(connector);
  if (p) return p;
  p = { bindings: [], ranges: [] };
  for (const text of connector.bindings) {
    const b = parseBinding(text);
    const ip = b && parseIp(b.ip);
    if (b && ip) p.bindings.push({ ...b, ...ip });
  }
  for (const text of connector.remoteIpRanges) {
    const range = parseRemoteIpRange(text);
    if (range) p.ranges.push({ range, size: rangeSize(range) });
  }
  parsedByConnector.set(connector, p);
  return p;
}

/**
 * How well a binding covers the local end of a connection: 2 for the exact local address, 1 for the
 * unspecified address of the same family, undefined when it does not cover it. As in Exchange,
 * `0.0.0.0` means every local IPv4 address and `::` every local IPv6 address; an IPv4-mapped local
 * address (`::ffff:10.0.0.4`, from a dual-stack socket) counts as IPv4.
 */
function bindingScore(
  bound: Parsed["bindings"][number],
  conn: ConnectionInfo,
  local: ReturnType<typeof parseIp>,
): number | undefined {
  if (bound.port !== conn.localPort) return undefined;
  if (!local || bound.family !== local.family) return undefined;
  if (bound.value === local.value) return 2;
  return bound.value === 0n ? 1 : undefined;
}

/** Size of the smallest of the connector's remote ranges that holds the address, or undefined. */
function smallestMatch(
  connector: ReceiveConnector,
  remote: ReturnType<typeof parseIp>,
): bigint | undefined {
  if (!remote) return undefined;
  let best: bigint | undefined;
  for (const { range, size } of parsed(connector).ranges) {
    if (range.family !== remote.family) continue;
    if (remote.value < range.start || remote.value > range.end) continue;
    if (best === undefined || size < best) best = size;
  }
  return best;
}

/**
 * The connector for a connection: among enabled connectors bound to the local address and port,
 * the one whose RemoteIPRanges hold the client most specifically (Exchange's "Receive connectors"
 * documentation: 192.168.1.75 beats 192.168.1.0/24 beats 0.0.0.0-255.255.255.255). At equal
 * specificity a binding to the exact local address beats `0.0.0.0`/`::`, then the name decides so
 * the choice never depends on record order. Undefined: the listener answers 421 4.3.2 and closes.
 */
export function selectReceiveConnector(
  connectors: ReceiveConnector[],
  conn: ConnectionInfo,
): ReceiveConnector | undefined {
  let best: { connector: ReceiveConnector; size: bigint; score: number } | undefined;
  const local = parseIp(conn.localIp);
  const remote = parseIp(conn.remoteIp);
  for (const connector of connectors) {
    if (!connector.enabled) continue;
    let score: number | undefined;
    for (const b of parsed(connector).bindings) {
      const s = bindingScore(b, conn, local);
      if (s !== undefined && (score === undefined || s > score)) score = s;
    }
    if (score === undefined) continue;
    const size = smallestMatch(connector, remote);
    if (size === undefined) continue;
    if (
      !best ||
      size < best.size ||
      (size === best.size && score > best.score) ||
      (size === best.size && score === best.score && connector.name < best.connector.name)
    )
      best = { connector, size, score };
  }
  return best?.connector;
}

/**
 * The distinct sockets the listener binds for the enabled connectors, ordered by port then address.
 * A specific address is left out when `0.0.0.0`/`::` on the same port and TLS mode covers it: the
 * kernel refuses both on one port, and selectReceiveConnector tells them apart by the local address
 * anyway. `::` means IPv6 only here (bind it with `ipv6Only: true`), so it can sit beside `0.0.0.0`.
 */
export function listenerBindings(
  connectors: ReceiveConnector[],
): Array<{ ip: string; port: number; implicitTls: boolean }> {
  const all = new Map<string, { ip: string; port: number; implicitTls: boolean }>();
  for (const connector of connectors) {
    if (!connector.enabled) continue;
    for (const text of connector.bindings) {
      const b = parseBinding(text);
      if (!b) continue;
      const key = `${b.ip}|${b.port}`;
      // Connectors sharing a binding must agree on implicit TLS (record-set rule); first one wins.
      if (!all.has(key)) all.set(key, { ...b, implicitTls: connector.implicitTls });
    }
  }
  const list = [...all.values()];
  const covered = (x: (typeof list)[number]) =>
    !isUnspecified(x.ip) &&
    list.some(
      (w) =>
        w.port === x.port &&
        w.implicitTls === x.implicitTls &&
        isUnspecified(w.ip) &&
        parseIp(w.ip)?.family === parseIp(x.ip)?.family,
    );
  return list
    .filter((x) => !covered(x))
    .sort((a, b) => a.port - b.port || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}
