// Where the CLI reads and writes: the local relay's RELAY_HOME, or (with --aws) the deployed stack.
import { LocalRecordStore } from "#adapters/local/record-store.ts";
import { LocalSecretStore } from "#adapters/local/secret-store.ts";
import type { RecordStore, SecretStore } from "#core/ports.ts";
import { type RelayHome, relayHome } from "#local/home.ts";
import { type Flags, str } from "./args.ts";
import { UsageError } from "./errors.ts";

export interface CliContext {
  kind: "local" | "aws";
  records: RecordStore;
  secrets: SecretStore & { set(name: string, value: string): Promise<void> };
  home?: RelayHome;
}

export async function openContext(flags: Flags): Promise<CliContext> {
  if (flags.aws) {
    throw new UsageError(
      "--aws: the AWS back end needs the deployed stack's table and queue names; see docs/aws.md",
    );
  }
  const home = relayHome(str(flags, "home") ?? process.env.RELAY_HOME ?? ".relay");
  return {
    kind: "local",
    home,
    records: new LocalRecordStore(home.records, (path, error) =>
      process.stderr.write(`warning: skipping ${path}: ${error.message}\n`),
    ),
    secrets: await LocalSecretStore.open(home.secrets),
  };
}
