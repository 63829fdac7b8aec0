// The MTA-STS policy fetch (RFC 8461 §3.3): HTTPS GET of https://mta-sts.<domain>/.well-known/mta-sts.txt with the RFC's limits.
import { request } from "node:https";
import type { LookupFunction } from "node:net";
import { rootCertificates } from "node:tls";
import type { MtaStsFetchResult } from "#core/tls-policy/ports.ts";

export interface MtaStsFetchOptions {
  /** Resolves the policy host (through the connector's DNS servers when it names any). */
  lookup: LookupFunction;
  /** Whole fetch, in ms. RFC 8461 §3.3 asks for a timeout; Postfix's mta-sts resolver uses 10 s. */
  timeoutMs?: number;
  /** Body limit in bytes: RFC 8461 §3.3 says SHOULD limit; 64 KiB as common implementations do. */
  maxBytes?: number;
  /** Test-only: trust anchors instead of Node's root store (a test CA). */
  ca?: string[];
  /** Test-only: a port other than 443 (443 is privileged on a test machine). */
  port?: number;
}

export const MTA_STS_MAX_POLICY_BYTES = 64 * 1024;

/**
 * RFC 8461 §3.3: the certificate must be valid for the policy host from a trusted CA, redirects
 * are not followed (any 3xx fails), only 200 counts, and the media type is text/plain. Resolves
 * with what failed instead of rejecting.
 */
export function fetchMtaStsPolicy(
  domain: string,
  options: MtaStsFetchOptions,
): Promise<MtaStsFetchResult> {
  const host = `mta-sts.${domain.toLowerCase().replace(/\.$/, "")}`;
  const maxBytes = options.maxBytes ?? MTA_STS_MAX_POLICY_BYTES;
  const where = `https://${host}/.well-known/mta-sts.txt`;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: MtaStsFetchResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const req = request(
      {
        host,
        servername: host,
        port: options.port ?? 443,
        path: "/.well-known/mta-sts.txt",
        method: "GET",
        lookup: options.lookup,
        ca: options.ca ?? [...rootCertificates],
        rejectUnauthorized: true,
        agent: false,
        headers: { accept: "text/plain", "user-agent": "connector-relay MTA-STS" },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200)
          return done({
            ok: false,
            reason: `${where} answered HTTP ${status}${status >= 300 && status < 400 ? " (redirects are not followed)" : ""}`,
          });
        const type = String(res.headers["content-type"] ?? "");
        if (!/^text\/plain\s*(;|$)/i.test(type))
          return done({ ok: false, reason: `${where} has content-type "${type}", not text/plain` });
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes)
            return done({ ok: false, reason: `${where} is larger than ${maxBytes} bytes` });
          chunks.push(chunk);
        });
        res.on("end", () => done({ ok: true, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (e) => done({ ok: false, reason: `${where}: ${e.message}` }));
      },
    );
    const timer = setTimeout(
      () =>
        done({ ok: false, reason: `${where}: no answer within ${options.timeoutMs ?? 10_000} ms` }),
      options.timeoutMs ?? 10_000,
    );
    req.on("error", (e: NodeJS.ErrnoException) =>
      done({ ok: false, reason: `${where}: ${e.code ?? ""} ${e.message}`.replace(/\s+/g, " ") }),
    );
    req.end();
  });
}
