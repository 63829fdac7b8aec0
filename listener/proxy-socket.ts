// Reads a PROXY header off a freshly accepted socket, leaving whatever follows it for the SMTP session.
import type { Socket } from "node:net";
import { type ProxyHeader, parseProxyHeader } from "./proxy-protocol.ts";

export type ProxyRead = { ok: true; header: ProxyHeader } | { ok: false; reason: string };

/**
 * Waits for a complete header. Bytes after it (a client that talks at once, or a TLS ClientHello
 * sent in the same segment) are put back with unshift, so the SMTP or TLS layer reads them next.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyRead> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    let settled = false;
    const finish = (result: ProxyRead) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener("readable", onReadable);
      socket.removeListener("end", onEnd);
      socket.removeListener("close", onEnd);
      socket.removeListener("error", onError);
      resolve(result);
    };
    const onReadable = () => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read()) {
        buffered = Buffer.concat([buffered, chunk]);
        const parsed = parseProxyHeader(buffered);
        if (parsed.status === "incomplete") continue;
        if (parsed.status === "invalid") return finish({ ok: false, reason: parsed.reason });
        const rest = buffered.subarray(parsed.length);
        if (rest.length > 0) socket.unshift(rest);
        return finish({ ok: true, header: parsed.header });
      }
    };
    const onEnd = () => finish({ ok: false, reason: "connection closed before the PROXY header" });
    const onError = (error: Error) => finish({ ok: false, reason: error.message });
    const timer = setTimeout(
      () => finish({ ok: false, reason: "no PROXY header in time" }),
      timeoutMs,
    );
    timer.unref();
    socket.on("readable", onReadable);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
    socket.on("error", onError);
  });
}
