// S3 claim-check store: message bodies too large for an SQS message (1 MiB), keyed by message id.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { NotFoundError } from "#core/errors.ts";
import type { MessageStore } from "#core/ports.ts";

export interface S3MessageStoreOptions {
  client: S3Client;
  bucket: string;
  /** Prepended to every key, e.g. "bodies/". @default "" */
  prefix?: string;
}

export class S3MessageStore implements MessageStore {
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #prefix: string;

  constructor(options: S3MessageStoreOptions) {
    this.#client = options.client;
    this.bucket = options.bucket;
    this.#prefix = options.prefix ?? "";
  }

  /** S3 acknowledges a PUT only after storing the object redundantly, so resolving means durable. */
  async put(key: string, body: Uint8Array): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.#prefix + key,
        Body: body,
        ContentType: "message/rfc822",
      }),
    );
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const out = await this.#client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.#prefix + key }),
      );
      if (!out.Body) throw new NotFoundError(`message body ${key} has no content`);
      return await out.Body.transformToByteArray();
    } catch (error) {
      if ((error as Error).name === "NoSuchKey")
        throw new NotFoundError(`no message body ${key} in s3://${this.bucket}`, { cause: error });
      throw error;
    }
  }

  /** Deleting a missing key succeeds in S3, so a redelivered cleanup is harmless. */
  async delete(key: string): Promise<void> {
    await this.#client.send(
      new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#prefix + key }),
    );
  }
}
