// The listener: binds what the enabled receive connectors declare, routes each connection to its connector, reloads, drains.

import { MemoryRateCounterStore } from "#adapters/memory/rate-counter-store.ts";
import type { SubmittedMessage } from "#core/message.ts";
import { type Metrics, NO_METRICS } from "#core/metrics.ts";
import type { MessageStore, QueueProducer, RateCounterStore } from "#core/ports.ts";
import { listenerBindings, selectReceiveConnector } from "#core/receive/select.ts";
import type { RecordCache } from "#core/records/cache.ts";
import type { ReceiveConnector } from "#core/records/receive-connector.ts";
import type { RecordSet } from "#core/records/record-set.ts";
import { REPLIES, type SmtpReply } from "#core/replies.ts";
import {
  BindingListener,
  type IncomingConnection,
  type ListenerBinding,
  parseTrustedProxies,
} from "./binding.ts";
import { type ListenerConfig, type ListenerConfigInput, parseListenerConfig } from "./config.ts";
import { type RelayConnection, replyText } from "./connection.ts";
import { ConnectorServer, type ConnectorServerDeps } from "./connector-server.ts";
import { ConnectionLimits } from "./limits.ts";
import { type Logger, listenerLog } from "./logger.ts";
import type { ProtocolLogSink } from "./protocol-log.ts";
import { ListenerTls, staticTlsSource, type TlsSource } from "./tls.ts";

export interface ListenerDeps {
  records: RecordCache;
  queue: QueueProducer<SubmittedMessage>;
  messageStore: MessageStore;
  config: ListenerConfigInput;
  logger?: Logger;
  /** Counts an operator graphs (messages received per receive connector, ...). */
  metrics?: Metrics;
  protocolLog?: ProtocolLogSink;
  /**
   * Where the certificate and partner CA bundles come from, re-read every tlsReloadIntervalMs;
   * without it `config.tls` is used as given.
   */
  tlsSource?: TlsSource;
  /**
   * Message and recipient rates and AUTH lockouts, shared by every listener task (DynamoDB in AWS,
   * SQLite locally). Default: counters in this process's memory.
   */
  counters?: RateCounterStore;
}

export type ListenerState = "new" | "running" | "draining" | "stopped";

export interface Listener {
  /** Loads records and binds; rejects when the records cannot be read at all. */
  start(): Promise<void>;
  /** Stops accepting, lets sessions finish until the shutdown deadline, answers the rest 421. */
  stop(): Promise<void>;
  /** Bound sockets: the declared ip and port, and the port actually bound. */
  addresses(): Array<{ ip: string; port: number; actualPort: number; implicitTls: boolean }>;
  /** Re-reads the records now and applies them (bindings, connectors) without dropping sessions. */
  reload(): Promise<void>;
  readonly state: ListenerState;
  /** Sessions in progress. */
  readonly sessionCount: number;
}

const bindingKey = (b: ListenerBinding) => `${b.ip}|${b.port}|${b.implicitTls}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export function createListener(deps: ListenerDeps): Listener {
  const config: ListenerConfig = parseListenerConfig(deps.config);
  const logger = deps.logger ?? listenerLog();
  const sessions = new Set<RelayConnection>();
  const limits = new ConnectionLimits();
  const bindings = new Map<string, BindingListener>();
  /** Connector servers by connector name, with the record text they were built from. */
  const servers = new Map<string, { text: string; server: ConnectorServer }>();
  const refusers = new Map<boolean, ConnectorServer>();
  let connectors: ReceiveConnector[] = [];
  let lastSet: RecordSet | undefined;
  let state: ListenerState = "new";
  let timer: NodeJS.Timeout | undefined;
  let applying: Promise<void> = Promise.resolve();
  const tlsSource = deps.tlsSource ?? (config.tls ? staticTlsSource(config.tls) : undefined);
  // A renewed certificate or bundle reaches every connector server, for the sessions it starts next.
  const tls = new ListenerTls(tlsSource, logger, () => {
    for (const { server } of servers.values()) server.refreshTls();
    for (const server of refusers.values()) server.refreshTls();
  });

  const serverDeps: ConnectorServerDeps = {
    records: deps.records,
    submit: {
      queue: deps.queue,
      messageStore: deps.messageStore,
      inlineBodyLimit: config.inlineBodyLimit,
    },
    config,
    tls,
    logger,
    counters: deps.counters ?? new MemoryRateCounterStore(),
    metrics: deps.metrics ?? NO_METRICS,
    ...(deps.protocolLog ? { protocolLog: deps.protocolLog } : {}),
    draining: () => state !== "running",
    sessions,
  };

  function refuser(implicitTls: boolean): ConnectorServer {
    let s = refusers.get(implicitTls);
    if (!s) {
      s = new ConnectorServer(undefined, implicitTls, serverDeps);
      refusers.set(implicitTls, s);
    }
    return s;
  }

  function route(conn: IncomingConnection): void {
    const base = {
      id: conn.id,
      remoteIp: conn.remoteIp,
      remotePort: conn.remotePort,
      localIp: conn.localIp,
      localPort: conn.binding.port,
    };
    const routing = admit(conn);
    if (!routing.ok) {
      // Logged once, with the reply, where every refusal is (RelayConnection.send).
      refuser(conn.binding.implicitTls).accept(conn.socket, {
        ...base,
        refusal: routing.reply,
        refusalRule: routing.why,
      });
      return;
    }
    routing.server.accept(conn.socket, { ...base, onClose: routing.release });
  }

  type Routing =
    | { ok: true; server: ConnectorServer; release: () => void }
    | { ok: false; reply: SmtpReply; why: string };

  function admit(conn: IncomingConnection): Routing {
    const no = (reply: SmtpReply, why: string): Routing => ({ ok: false, reply, why });
    if (state !== "running") return no(REPLIES.shuttingDown, "shutting down");
    // The balancer's own address never selects a connector (it would earn the balancer's rights).
    if (conn.proxy === "local") return no(REPLIES.noReceiveConnector, "PROXY LOCAL");
    const connector = selectReceiveConnector(connectors, {
      localIp: conn.localIp,
      localPort: conn.binding.port,
      remoteIp: conn.remoteIp,
    });
    const entry = connector && servers.get(connector.name);
    if (!connector || !entry) return no(REPLIES.noReceiveConnector, "no receive connector");
    const admission = limits.admit(connector, conn.remoteIp);
    if (!admission.ok) return no(admission.reply, `${connector.name}: connection limit`);
    return { ok: true, server: entry.server, release: admission.release };
  }

  async function bind(b: ListenerBinding): Promise<void> {
    if (b.implicitTls && !tls.pair) {
      logger.error("implicit TLS binding without a certificate; not bound", { binding: b });
      return;
    }
    const listener = new BindingListener(b, {
      trustedProxies: parseTrustedProxies(config.trustedProxies),
      proxyHeaderTimeoutMs: config.proxyHeaderTimeoutMs,
      logger,
      onConnection: route,
    });
    try {
      await listener.listen(config.bindPorts[String(b.port)] ?? b.port);
      bindings.set(bindingKey(b), listener);
      logger.info("listening", { binding: listener.label, port: listener.actualPort });
    } catch (error) {
      logger.error("could not bind", { binding: listener.label, error });
    }
  }

  async function apply(set: RecordSet): Promise<void> {
    lastSet = set;
    const enabled = set.receiveConnectors.filter((c) => c.enabled);
    const hostName = set.settings.hostName ?? config.hostName;
    await tls.ensureBundles(enabled.flatMap((c) => c.tlsClientCaBundle ?? []));
    for (const c of enabled) {
      const text = JSON.stringify([c, hostName]);
      if (servers.get(c.name)?.text !== text)
        servers.set(c.name, {
          text,
          server: new ConnectorServer(c, c.implicitTls, serverDeps, hostName),
        });
    }
    for (const name of servers.keys())
      if (!enabled.some((c) => c.name === name)) servers.delete(name);
    connectors = enabled;
    if (state !== "running") return;
    const wanted = listenerBindings(enabled);
    const keys = new Set(wanted.map(bindingKey));
    for (const [key, listener] of bindings) {
      if (keys.has(key)) continue;
      bindings.delete(key);
      listener.close();
      logger.info("stopped listening", { binding: listener.label });
    }
    for (const b of wanted) if (!bindings.has(bindingKey(b))) await bind(b);
  }

  function applyInOrder(load: () => Promise<RecordSet>): Promise<void> {
    const next = applying.then(async () => {
      const set = await load();
      if (set !== lastSet && state === "running") await apply(set);
    });
    applying = next.catch((error: unknown) => logger.error("record reload failed", { error }));
    return next;
  }

  async function drain(): Promise<void> {
    for (const s of sessions)
      if (s.idle) s.send(REPLIES.shuttingDown.code, replyText(REPLIES.shuttingDown));
    const deadline = Date.now() + config.shutdownDeadlineMs;
    while (sessions.size > 0 && Date.now() < deadline) await sleep(50);
    for (const s of sessions) s.send(REPLIES.shuttingDown.code, replyText(REPLIES.shuttingDown));
    // A client that does not close its side after the 421 is cut off shortly after.
    const hard = Date.now() + 2000;
    while (sessions.size > 0 && Date.now() < hard) await sleep(50);
    for (const s of sessions) s.destroySocket();
  }

  return {
    get state() {
      return state;
    },
    get sessionCount() {
      return sessions.size;
    },
    async start() {
      if (state !== "new") throw new Error(`listener is ${state}`);
      await tls.load();
      const set = await deps.records.get();
      state = "running";
      tls.start(config.tlsReloadIntervalMs);
      await apply(set);
      timer = setInterval(
        () => void applyInOrder(() => deps.records.get()),
        config.reloadIntervalMs,
      );
      timer.unref();
    },
    reload() {
      return applyInOrder(() => deps.records.refresh());
    },
    async stop() {
      if (state === "stopped" || state === "draining") return;
      state = "draining";
      clearInterval(timer);
      tls.stop();
      await applying;
      for (const b of bindings.values()) b.close();
      bindings.clear();
      await drain();
      state = "stopped";
    },
    addresses() {
      return [...bindings.values()].map((l) => ({ ...l.binding, actualPort: l.actualPort }));
    },
  };
}
