// Concurrent connection limits of receive connectors: MaxInboundConnection and MaxInboundConnectionPerSource.
import type { ReceiveConnector } from "#core/records/receive-connector.ts";
import { REPLIES, type SmtpReply } from "#core/replies.ts";

export type Admission = { ok: true; release: () => void } | { ok: false; reply: SmtpReply };

/**
 * Counts live sessions per connector and per (connector, real client address). Counts are keyed
 * by connector name, so they carry across a reload that edits the connector.
 */
export class ConnectionLimits {
  readonly #perConnector = new Map<string, number>();
  readonly #perSource = new Map<string, number>();

  admit(connector: ReceiveConnector, clientIp: string): Admission {
    const sourceKey = `${connector.name}\u0000${clientIp}`;
    const total = this.#perConnector.get(connector.name) ?? 0;
    const fromSource = this.#perSource.get(sourceKey) ?? 0;
    if (total >= connector.maxInboundConnection)
      return { ok: false, reply: REPLIES.tooManyConnections };
    if (fromSource >= connector.maxInboundConnectionPerSource)
      return { ok: false, reply: REPLIES.tooManyConnectionsFromSource };
    this.#perConnector.set(connector.name, total + 1);
    this.#perSource.set(sourceKey, fromSource + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        decrement(this.#perConnector, connector.name);
        decrement(this.#perSource, sourceKey);
      },
    };
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
