// Where the CLI reads and writes: the local relay's RELAY_HOME, or (with --aws) the deployed stack.
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import type { RecordStore, SecretStore, SecretWriter } from "#core/ports.ts";
import { type RelayHome, relayHome } from "#local/home.ts";
import { type Flags, str } from "./args.ts";
import type { QueueBackend } from "./backends/backend.ts";
import { UsageError } from "./errors.ts";

export interface CliContext {
  kind: "local" | "aws";
  records: RecordStore;
  secrets: SecretStore & SecretWriter;
  home?: RelayHome;
  /** Tracking, bodies and queues, opened on first use: the record verbs never need them. */
  queues(): Promise<QueueBackend>;
  close(): void;
}

/** A record store made on first use, so a missing table name fails only the verbs that need it. */
function lazyRecords(make: () => RecordStore): RecordStore {
  let store: RecordStore | undefined;
  const get = () => {
    store ??= make();
    return store;
  };
  return {
    list: () => get().list(),
    get: (kind, id) => get().get(kind, id),
    put: (record) => get().put(record),
    delete: (kind, id) => get().delete(kind, id),
  };
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= make();
    return p;
  };
}

export async function openContext(flags: Flags): Promise<CliContext> {
  if (str(flags, "stack") !== undefined)
    throw new UsageError(
      "--stack: reading the stack's outputs needs @aws-sdk/client-cloudformation, which this release does not ship; pass --record-table, --tracking-table and the queue URLs from the outputs (or set RELAY_RECORD_TABLE, ...), see docs/cli.md",
    );
  if (flags.aws) {
    // The SDK clients take a quarter second to load: only --aws pays for them.
    const { awsBackend, awsClients, awsRecordStore, awsSecretStore } = await import(
      "./backends/aws.ts"
    );
    const clients = awsClients(flags);
    const records = lazyRecords(() => awsRecordStore(flags, clients));
    const queues = once(async () => awsBackend(flags, clients, records));
    return {
      kind: "aws",
      records,
      secrets: awsSecretStore(flags, clients),
      queues,
      close: () => {
        for (const c of Object.values(clients)) c.destroy();
      },
    };
  }
  const home = relayHome(str(flags, "home") ?? process.env.RELAY_HOME ?? ".relay");
  const records = new LocalRecordStore(home.records, (path, error) =>
    process.stderr.write(`warning: skipping ${path}: ${error.message}\n`),
  );
  let opened: QueueBackend | undefined;
  // Opened on use: it creates the key file, which only verbs that touch secrets should do.
  const secretStore = once(() => LocalSecretStore.open(home.secrets));
  return {
    kind: "local",
    home,
    records,
    secrets: {
      get: async (name) => (await secretStore()).get(name),
      set: async (name, value) => (await secretStore()).set(name, value),
      delete: async (name) => (await secretStore()).delete(name),
    },
    queues: once(async () => {
      const { localBackend } = await import("./backends/local.ts");
      opened = await localBackend(home, records);
      return opened;
    }),
    close: () => opened?.close(),
  };
}
