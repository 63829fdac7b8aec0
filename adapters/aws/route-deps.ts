// The route function's dependencies in AWS: the shared ones plus DKIM signing (mailauth, keys from Secrets Manager).
import { mailauthDkim } from "#adapters/dkim/mailauth-signer.ts";
import type { RouteDeps, UseCaseLog } from "#core/usecases/deps.ts";
import { type AwsClients, defaultClients } from "./from-env.ts";
import { type FunctionWiring, relayDepsFromEnv, type WiringOptions } from "./function-deps.ts";

type Env = Record<string, string | undefined>;

/**
 * Only route signs, so only its bundle carries mailauth (with libmime's charset tables); its role
 * may read the `dkim/` secrets and no others (infra/constructs/storage.ts).
 */
export function routeDepsFromEnv(
  log: UseCaseLog,
  env: Env = process.env,
  clients: AwsClients = defaultClients(),
  options: WiringOptions = {},
): FunctionWiring<RouteDeps> {
  const { deps, metrics, adapters } = relayDepsFromEnv(log, env, clients, options);
  return {
    metrics,
    deps: { ...deps, dkim: mailauthDkim(adapters.secretStore) },
  };
}
