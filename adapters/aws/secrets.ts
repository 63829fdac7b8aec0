// Secrets Manager adapter: TLS key, smart-host credentials and DKIM private keys, cached briefly; writes for the admin tool.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { NotFoundError } from "#core/errors.ts";
import type { Clock, SecretStore, SecretWriter } from "#core/ports.ts";

export interface SecretsManagerStoreOptions {
  client: SecretsManagerClient;
  /** Prepended to every name, e.g. "connector-relay/" so records name secrets without the stack prefix. @default "" */
  prefix?: string;
  /**
   * How long a value is reused. Each GetSecretValue costs money and adds latency to a delivery;
   * a rotated password takes effect within this time. @default 60000
   */
  cacheTtlMs?: number;
  clock?: Clock;
}

export class SecretsManagerStore implements SecretStore, SecretWriter {
  readonly #client: SecretsManagerClient;
  readonly #prefix: string;
  readonly #ttl: number;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { value: string; at: number }>();

  constructor(options: SecretsManagerStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? "";
    this.#ttl = options.cacheTtlMs ?? 60_000;
    this.#clock = options.clock ?? { now: () => new Date() };
  }

  async get(name: string): Promise<string> {
    const now = this.#clock.now().getTime();
    const hit = this.#cache.get(name);
    if (hit && now - hit.at < this.#ttl) return hit.value;
    const secretId = this.#prefix + name;
    let value: string;
    try {
      const out = await this.#client.send(new GetSecretValueCommand({ SecretId: secretId }));
      if (out.SecretString !== undefined) value = out.SecretString;
      else if (out.SecretBinary) value = new TextDecoder().decode(out.SecretBinary);
      else throw new NotFoundError(`secret ${secretId} has no value`);
    } catch (error) {
      if ((error as Error).name === "ResourceNotFoundException")
        throw new NotFoundError(`no secret named ${secretId}`, { cause: error });
      throw error;
    }
    this.#cache.set(name, { value, at: now });
    return value;
  }

  /** CreateSecret, or PutSecretValue (a new AWSCURRENT version) when the name exists. */
  async set(name: string, value: string): Promise<void> {
    const secretId = this.#prefix + name;
    try {
      await this.#client.send(new CreateSecretCommand({ Name: secretId, SecretString: value }));
    } catch (error) {
      if ((error as Error).name !== "ResourceExistsException") throw error;
      await this.#client.send(
        new PutSecretValueCommand({ SecretId: secretId, SecretString: value }),
      );
    }
    this.#cache.delete(name);
  }

  /**
   * Scheduled for deletion after Secrets Manager's shortest recovery window (7 days), so a key
   * removed by mistake can still be restored (`aws secretsmanager restore-secret`).
   */
  async delete(name: string): Promise<boolean> {
    this.#cache.delete(name);
    try {
      await this.#client.send(
        new DeleteSecretCommand({ SecretId: this.#prefix + name, RecoveryWindowInDays: 7 }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === "ResourceNotFoundException") return false;
      throw error;
    }
  }
}
