// Where the CLI reads and writes: the local relay's RELAY_HOME, or (with --aws) the deployed stack.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import type { HopStateStore } from "#core/next-hop/ports.ts";
import type { RateCounterStore, RecordStore, SecretStore, SecretWriter } from "#core/ports.ts";
import type { SuppressionStore } from "#core/suppression/list.ts";
import { type RelayHome, relayHome } from "#local/home.ts";
import { type Flags, str } from "./args.ts";
import type { QueueBackend } from "./backends/backend.ts";
import { UsageError } from "./errors.ts";

export interface CliContext {
  kind: "local" | "aws";
  records: RecordStore;
  secrets: SecretStore & SecretWriter;
  home?: RelayHome;
  /** With --stack: the stack's outputs (EgressIp1, ...), for the verbs that read more than names. */
  stackOutputs?: Record<string, string>;
  /** Tracking, bodies and queues, opened on first use: the record verbs never need them. */
  queues(): Promise<QueueBackend>;
  /** The relay's rate and AUTH-failure counters (lockouts), opened on first use. */
  counters(): Promise<RateCounterStore>;
  /** Deliver's next-hop state (throttles, circuits); undefined when there is none to read. */
  hopState(): Promise<HopStateStore | undefined>;
  /** The suppression list, opened on first use. */
  suppression(): Promise<SuppressionStore>;
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

/** Refuses a RELAY_HOME that is not there, naming where it came from, so a typo never reads as "(none)". */
function homeCheck(home: RelayHome, flags: Flags, creates: boolean): () => void {
  return () => {
    if (creates || existsSync(home.root)) return;
    const given = str(flags, "home");
    const source =
      given !== undefined
        ? `--home: "${given}"`
        : process.env.RELAY_HOME
          ? `RELAY_HOME: "${process.env.RELAY_HOME}"`
          : `--home/RELAY_HOME: not given, and the default "./.relay"`;
    throw new UsageError(
      `${source} does not exist (${home.root}); check the path, start the relay there (npm start), or create a record there with a new or set verb`,
    );
  };
}

export async function openContext(
  flags: Flags,
  options: { creates?: boolean } = {},
): Promise<CliContext> {
  const stack = str(flags, "stack");
  if (flags.aws || stack !== undefined) {
    // The SDK clients take a quarter second to load: only --aws pays for them.
    const {
      awsBackend,
      awsClients,
      awsCounters,
      awsHopState,
      awsRecordStore,
      awsSecretStore,
      awsSuppression,
    } = await import("./backends/aws.ts");
    let stackOutputs: Record<string, string> | undefined;
    if (stack !== undefined) {
      const { applyStackOutputs, readStackOutputs } = await import("./stack.ts");
      stackOutputs = await readStackOutputs(stack, str(flags, "region"));
      flags = applyStackOutputs(flags, stackOutputs);
    }
    const clients = awsClients(flags);
    const records = lazyRecords(() => awsRecordStore(flags, clients));
    const queues = once(async () => awsBackend(flags, clients, records));
    return {
      kind: "aws",
      records,
      secrets: awsSecretStore(flags, clients),
      queues,
      ...(stackOutputs ? { stackOutputs } : {}),
      counters: once(async () => awsCounters(flags, clients)),
      hopState: once(async () => awsHopState(flags, clients)),
      suppression: once(async () => awsSuppression(flags, clients)),
      close: () => {
        for (const c of Object.values(clients)) c.destroy();
      },
    };
  }
  const home = relayHome(str(flags, "home") ?? process.env.RELAY_HOME ?? ".relay");
  const requireHome = homeCheck(home, flags, options.creates === true);
  const records = lazyRecords(() => {
    requireHome();
    return new LocalRecordStore(home.records, (path, error) =>
      process.stderr.write(`warning: skipping ${path}: ${error.message}\n`),
    );
  });
  let opened: QueueBackend | undefined;
  let counters: { close(): void } | undefined;
  let hops: { close(): void } | undefined;
  let suppression: { close(): void } | undefined;
  // Opened on use: it creates the key file, which only verbs that touch secrets should do.
  const secretStore = once(() => {
    requireHome();
    return LocalSecretStore.open(home.secrets);
  });
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
      requireHome();
      const { localBackend } = await import("./backends/local.ts");
      opened = await localBackend(home, records);
      return opened;
    }),
    counters: once(async () => {
      const { LocalRateCounterStore } = await import("#adapters/local/rate-counter-store.ts");
      await mkdir(home.root, { recursive: true, mode: 0o700 });
      const store = new LocalRateCounterStore(home.limits);
      counters = store;
      return store;
    }),
    hopState: once(async () => {
      // Only a relay that ran has next-hop state; reading must not create limits.db.
      if (!existsSync(home.limits)) return undefined;
      const { LocalHopStateStore } = await import("#adapters/local/hop-state-store.ts");
      const store = new LocalHopStateStore(home.limits);
      hops = store;
      return store;
    }),
    suppression: once(async () => {
      requireHome();
      const { LocalSuppressionStore } = await import("#adapters/local/suppression-store.ts");
      const store = new LocalSuppressionStore(home.suppression);
      suppression = store;
      return store;
    }),
    close: () => {
      opened?.close();
      hops?.close();
      counters?.close();
      suppression?.close();
    },
  };
}
