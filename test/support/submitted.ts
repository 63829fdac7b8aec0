// A submitted message as the listener queues it (inline body, SMTP origin), for tests that start past the listener.
import type { Envelope, SubmittedMessage } from "#core/message.ts";

export interface SubmittedInput {
  id: string;
  receivedAt: Date;
  envelope: Envelope;
  /** The message as received (header and body). */
  raw: string | Buffer;
  receiveConnector?: string;
  clientHelo?: string;
  subject?: string;
  internetMessageId?: string;
}

export function submittedMessage(input: SubmittedInput): SubmittedMessage {
  const bytes = Buffer.isBuffer(input.raw) ? input.raw : Buffer.from(input.raw);
  return {
    id: input.id,
    receivedAt: input.receivedAt.toISOString(),
    envelope: input.envelope,
    size: bytes.byteLength,
    body: { inline: bytes.toString("base64") },
    origin: {
      type: "smtp",
      receiveConnector: input.receiveConnector ?? "Default",
      clientIp: "192.0.2.10",
      clientHelo: input.clientHelo ?? "app.contoso.test",
      tls: false,
    },
    ...(input.subject !== undefined ? { subject: input.subject } : {}),
    ...(input.internetMessageId !== undefined
      ? { internetMessageId: input.internetMessageId }
      : {}),
  };
}
