// One listening socket (a connector binding): accepts connections, reads PROXY headers from trusted balancers, hands sessions on.
import { createServer, type Server, type Socket } from "node:net";
import {
  type IpRange,
  isUnspecified,
  normalizeIp,
  parseIp,
  parseRemoteIpRange,
  rangeContainsIp,
} from "#core/net/ip-range.ts";
import type { Logger } from "./logger.ts";
import { readProxyHeader } from "./proxy-socket.ts";

export interface ListenerBinding {
  ip: string;
  /** The port the connectors declare (what selection matches on). */
  port: number;
  implicitTls: boolean;
}

/** A connection ready for a session: the real client, after any PROXY header. */
export interface IncomingConnection {
  id: string;
  socket: Socket;
  binding: ListenerBinding;
  localIp: string;
  remoteIp: string;
  remotePort: number;
  /** Through a trusted balancer; `local` means the balancer spoke for itself (no client address). */
  proxy: "none" | "proxy" | "local";
}

export interface BindingDeps {
  trustedProxies: IpRange[];
  proxyHeaderTimeoutMs: number;
  logger: Logger;
  onConnection(conn: IncomingConnection): void;
}

export function parseTrustedProxies(list: string[]): IpRange[] {
  return list.map((t) => parseRemoteIpRange(t)).filter((r): r is IpRange => r !== undefined);
}

let sequence = 0;
/** Session ids: unique in this process, sortable by time, short enough for every log line. */
export function newSessionId(): string {
  sequence = (sequence + 1) % 0x100000;
  return `${Date.now().toString(36)}${sequence.toString(36).padStart(4, "0")}`;
}

export class BindingListener {
  readonly binding: ListenerBinding;
  readonly #deps: BindingDeps;
  readonly #server: Server;
  /** Sockets still waiting for their PROXY header: no session owns them yet. */
  readonly #pending = new Set<Socket>();

  constructor(binding: ListenerBinding, deps: BindingDeps) {
    this.binding = binding;
    this.#deps = deps;
    this.#server = createServer({ pauseOnConnect: false }, (socket) => {
      void this.#accept(socket);
    });
    this.#server.on("error", (error) =>
      deps.logger.error("listening socket error", { binding: this.label, error }),
    );
  }

  get label(): string {
    const { ip, port } = this.binding;
    return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
  }

  /** Binds `bindPort` (the declared port unless configured otherwise; 0 for any free one). */
  listen(bindPort: number): Promise<void> {
    const { ip } = this.binding;
    // `::` is IPv6 only, so a `0.0.0.0` binding of another connector can sit beside it.
    const ipv6Only = isUnspecified(ip) && parseIp(ip)?.family === 6;
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once("error", onError);
      this.#server.listen({ host: ip, port: bindPort, ipv6Only }, () => {
        this.#server.removeListener("error", onError);
        resolve();
      });
    });
  }

  get actualPort(): number {
    const address = this.#server.address();
    return address && typeof address === "object" ? address.port : 0;
  }

  /**
   * Stops accepting; sessions already running are not touched. The listening handle closes at
   * once, while net.Server's close callback would wait for every session to end, so it is not awaited.
   */
  close(): void {
    for (const socket of this.#pending) socket.destroy();
    this.#pending.clear();
    if (this.#server.listening) this.#server.close();
  }

  #trusted(ip: string): boolean {
    return this.#deps.trustedProxies.some((r) => rangeContainsIp(r, ip));
  }

  async #accept(socket: Socket): Promise<void> {
    // Until a session owns the socket, a reset must not become an uncaught error.
    socket.on("error", () => {});
    const peer = normalizeIp(socket.remoteAddress ?? "");
    const localIp = normalizeIp(socket.localAddress ?? "");
    if (!peer || !localIp) {
      socket.destroy();
      return;
    }
    const id = newSessionId();
    const base = { id, socket, binding: this.binding, localIp };
    if (!this.#trusted(peer)) {
      this.#deps.onConnection({
        ...base,
        remoteIp: peer,
        remotePort: socket.remotePort ?? 0,
        proxy: "none",
      });
      return;
    }
    this.#pending.add(socket);
    const read = await readProxyHeader(socket, this.#deps.proxyHeaderTimeoutMs);
    const stillOpen = this.#pending.delete(socket) && !socket.destroyed;
    if (!stillOpen) return;
    if (!read.ok) {
      // A balancer we trust sends a header on every connection; without one we cannot tell who
      // the client is, and the balancer's own address must never stand in for it.
      this.#deps.logger.warn("connection from a trusted proxy without a valid PROXY header", {
        binding: this.label,
        proxy: peer,
        reason: read.reason,
      });
      socket.destroy();
      return;
    }
    const header = read.header;
    if (header.command === "local") {
      this.#deps.onConnection({ ...base, remoteIp: peer, remotePort: 0, proxy: "local" });
      return;
    }
    this.#deps.onConnection({
      ...base,
      remoteIp: header.source.ip,
      remotePort: header.source.port,
      proxy: "proxy",
    });
  }
}
