// A listener on loopback for tests: in-memory records, queue and message store, captured logs, connectors by name.

import { afterEach } from "vitest";
import { MemoryMessageStore } from "#adapters/memory/message-store.ts";
import { MemoryQueue } from "#adapters/memory/queue.ts";
import { MemoryRecordStore } from "#adapters/memory/record-store.ts";
import type { InlineBody, SubmittedMessage } from "#core/message.ts";
import { RecordCache, recordCacheLogging } from "#core/records/cache.ts";
import { decodeInline } from "#core/usecases/body.ts";
import type { ListenerConfigInput } from "#listener/config.ts";
import type { Logger } from "#listener/logger.ts";
import type { ProtocolLogEntry } from "#listener/protocol-log.ts";
import { createListener, type Listener, type ListenerDeps } from "#listener/server.ts";
import { RawSmtpClient, type SmtpReplyLines } from "./smtp-client.ts";
import { createServerCertificate, createTestCa, type TestCa } from "./tls.ts";

export interface LogLine {
  level: "info" | "warn" | "error";
  message: string;
  fields?: Record<string, unknown>;
}

/** A receive connector record with test-friendly defaults (no tarpit, verbose protocol log). */
export function receiveConnector(
  name: string,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    kind: "ReceiveConnector",
    name,
    bindings: ["127.0.0.1:25"],
    tarpitInterval: 0,
    protocolLogging: "Verbose",
    ...fields,
  };
}

export const acceptedDomain = (domain: string, domainType = "Authoritative") => ({
  kind: "AcceptedDomain",
  domain,
  domainType,
});

let pki: Promise<{ ca: TestCa; cert: { cert: string; key: string } }> | undefined;
/** One CA and one localhost certificate for every test in the process (generation is slow-ish). */
export function testPki() {
  pki ??= (async () => {
    const ca = await createTestCa();
    const cert = await createServerCertificate(["localhost", "relay.test"], ca, [
      "127.0.0.1",
      "::1",
    ]);
    return { ca, cert };
  })();
  return pki;
}

export interface TestListener {
  listener: Listener;
  store: MemoryRecordStore;
  cache: RecordCache;
  queue: MemoryQueue<SubmittedMessage>;
  messageStore: MemoryMessageStore;
  logs: LogLine[];
  protocol: ProtocolLogEntry[];
  ca: string;
  /** The bound port for a declared binding such as "127.0.0.1:25". */
  port(binding?: string): number;
  stop(): Promise<void>;
}

/** Deps a test may give beyond the in-memory defaults (shared counters, metrics). */
export type ExtraListenerDeps = Pick<ListenerDeps, "tlsSource" | "counters" | "metrics">;

export async function startTestListener(
  records: Record<string, unknown>[],
  config: Partial<ListenerConfigInput> = {},
  extra: ExtraListenerDeps = {},
): Promise<TestListener> {
  const { ca, cert } = await testPki();
  const store = new MemoryRecordStore(records);
  const queue = new MemoryQueue<SubmittedMessage>();
  const messageStore = new MemoryMessageStore();
  const logs: LogLine[] = [];
  const protocol: ProtocolLogEntry[] = [];
  const at = (level: LogLine["level"]) => (message: string, fields?: Record<string, unknown>) =>
    logs.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { info: at("info"), warn: at("warn"), error: at("error") };
  // Wired as listener/main.ts and local mode wire theirs: the cache is what reports a bad record.
  const cache = new RecordCache(store, { ttlMs: 0, ...recordCacheLogging(logger) });
  const listener = createListener({
    records: cache,
    queue,
    messageStore,
    logger,
    protocolLog: { write: (e) => protocol.push(e) },
    ...extra,
    config: {
      hostName: "relay.test",
      tls: { cert: cert.cert, key: cert.key },
      bindPorts: { "25": 0, "587": 0, "465": 0, "2525": 0 },
      shutdownDeadlineMs: 2_000,
      reloadIntervalMs: 60_000,
      ...config,
    },
  });
  await listener.start();
  return {
    listener,
    store,
    cache,
    queue,
    messageStore,
    logs,
    protocol,
    ca: ca.cert,
    port(binding = "127.0.0.1:25") {
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(binding);
      const found = listener.addresses().find((a) => a.ip === m?.[1] && String(a.port) === m?.[2]);
      if (!found) throw new Error(`not bound: ${binding}`);
      return found.actualPort;
    },
    stop: () => listener.stop(),
  };
}

/** Connects to a declared binding from a loopback source address and reads the greeting. */
export async function connectClient(
  t: TestListener,
  options: { from?: string; binding?: string; tls?: boolean } = {},
): Promise<{ client: RawSmtpClient; greeting: SmtpReplyLines }> {
  const binding = options.binding ?? "127.0.0.1:25";
  const host = binding.startsWith("[")
    ? binding.slice(1, binding.indexOf("]"))
    : binding.split(":")[0]!;
  const client = await RawSmtpClient.connect({
    host,
    port: t.port(binding),
    ...(options.from ? { localAddress: options.from } : {}),
    ...(options.tls ? { tls: { ca: t.ca } } : {}),
  });
  return { client, greeting: await client.read() };
}

export interface ListenerHarness {
  start(
    records: Record<string, unknown>[],
    config?: Partial<ListenerConfigInput>,
    extra?: ExtraListenerDeps,
  ): Promise<TestListener>;
  /** The listener of the running test. */
  readonly t: TestListener;
  /** Closes the client after the test. */
  track(client: RawSmtpClient): RawSmtpClient;
  /** connectClient, closed after the test. */
  open(options?: Parameters<typeof connectClient>[1]): ReturnType<typeof connectClient>;
}

/** The listener of each test and the clients it opened, closed and stopped after the test. */
export function useTestListener(): ListenerHarness {
  let current: TestListener | undefined;
  const clients: RawSmtpClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await current?.stop();
    current = undefined;
  });
  const h: ListenerHarness = {
    async start(records, config = {}, extra = {}) {
      current = await startTestListener(records, config, extra);
      return current;
    },
    get t() {
      if (!current) throw new Error("no listener started in this test");
      return current;
    },
    track(client) {
      clients.push(client);
      return client;
    },
    async open(options = {}) {
      const r = await connectClient(h.t, options);
      clients.push(r.client);
      return r;
    },
  };
  return h;
}

/** The queued message's bytes as text (the listener queues small bodies inline). */
export function queuedText(m: SubmittedMessage, encoding: BufferEncoding = "utf8"): string {
  return Buffer.from(decodeInline(m.body as InlineBody)).toString(encoding);
}
