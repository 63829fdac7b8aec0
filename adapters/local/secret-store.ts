// Secrets for local mode (smart host credentials, TLS keys), encrypted at rest with AES-256-GCM.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { NotFoundError } from "#core/errors.ts";
import type { SecretStore, SecretWriter } from "#core/ports.ts";
import { writeFileDurably } from "./durable-file.ts";

/*
 * Secrets are never written in clear: each file holds iv, tag and ciphertext under a 256-bit key
 * kept in `.key` (mode 0600) beside them, or given in RELAY_SECRET_KEY (64 hex digits) so the key
 * can live apart from the data, e.g. in a service manager's credential store.
 */
export class LocalSecretStore implements SecretStore, SecretWriter {
  readonly dir: string;
  readonly #key: Buffer;

  private constructor(dir: string, key: Buffer) {
    this.dir = dir;
    this.#key = key;
  }

  static async open(dir: string, keyHex = process.env.RELAY_SECRET_KEY): Promise<LocalSecretStore> {
    await mkdir(join(dir, ".tmp"), { recursive: true, mode: 0o700 });
    if (keyHex) {
      if (!/^[0-9a-f]{64}$/i.test(keyHex))
        throw new Error("RELAY_SECRET_KEY must be 64 hexadecimal digits (a 256-bit key)");
      return new LocalSecretStore(dir, Buffer.from(keyHex, "hex"));
    }
    const keyPath = join(dir, ".key");
    let key: Buffer;
    try {
      key = Buffer.from((await readFile(keyPath, "utf8")).trim(), "hex");
    } catch {
      key = randomBytes(32);
      await writeFileDurably(dir, ".key", key.toString("hex"), {
        tmpDir: join(dir, ".tmp"),
        mode: 0o600,
      });
    }
    return new LocalSecretStore(dir, key);
  }

  #file(name: string): string {
    if (!/^[A-Za-z0-9._/-]+$/.test(name) || name.includes(".."))
      throw new Error(`invalid secret name ${JSON.stringify(name)}`);
    return name.replace(/\//g, "__");
  }

  async get(name: string): Promise<string> {
    let text: string;
    try {
      text = await readFile(join(this.dir, this.#file(name)), "utf8");
    } catch {
      throw new NotFoundError(`no secret named ${name}`);
    }
    const [iv, tag, data] = text
      .trim()
      .split(".")
      .map((p) => Buffer.from(p, "base64"));
    if (!iv || !tag || !data) throw new Error(`secret ${name} is damaged`);
    const decipher = createDecipheriv("aes-256-gcm", this.#key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8");
  }

  async set(name: string, value: string): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const data = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
    const text = [iv, cipher.getAuthTag(), data].map((b) => b.toString("base64")).join(".");
    await writeFileDurably(this.dir, this.#file(name), text, {
      tmpDir: join(this.dir, ".tmp"),
      mode: 0o600,
    });
  }

  async delete(name: string): Promise<boolean> {
    try {
      await unlink(join(this.dir, this.#file(name)));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
  }
}
