// After the TLS handshake on a partner connector: read the client certificate, let core judge it, log the outcome.
import type { TLSSocket } from "node:tls";
import {
  type ClientCertificate,
  partnerVerdict,
  requestsClientCertificate,
} from "#core/receive/partners.ts";
import type { ReceiveConnector } from "#core/records/receive-connector.ts";
import type { RelayConnection } from "./connection.ts";
import type { Logger } from "./logger.ts";

/**
 * What the handshake learnt about the client's certificate. smtp-server sets `authorized` and
 * `authorizationError` from OpenSSL's verification (chain to the `ca` given, validity dates) when it
 * asked for a certificate with rejectUnauthorized false, which keeps the session going either way.
 */
export function clientCertificateOf(socket: TLSSocket): ClientCertificate {
  const peer = socket.getPeerCertificate(false);
  if (!peer || Object.keys(peer).length === 0)
    return { presented: false, verified: false, dnsNames: [] };
  const dnsNames = (peer.subjectaltname ?? "")
    .split(", ")
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4));
  const cn = peer.subject?.CN as string | string[] | undefined;
  const commonName = Array.isArray(cn) ? cn[0] : cn;
  const error = socket.authorizationError as unknown;
  return {
    presented: true,
    verified: socket.authorized === true,
    ...(error ? { verifyError: String((error as { code?: string }).code ?? error) } : {}),
    dnsNames,
    ...(commonName ? { commonName } : {}),
  };
}

/**
 * Sets or clears the session's partner identity for a fresh TLS session. A certificate that does
 * not earn Partners leaves the client anonymous without an error, as in Exchange: the session
 * continues and only the Partners rights are missing. The outcome is logged at info either way.
 */
export function judgePartner(
  logger: Logger,
  connector: ReceiveConnector,
  conn: RelayConnection,
  socket: TLSSocket,
): void {
  conn.partner = undefined;
  if (!requestsClientCertificate(connector)) return;
  const cert = clientCertificateOf(socket);
  const verdict = partnerVerdict(connector, cert);
  const fields = {
    connector: connector.name,
    client: conn.remoteAddress,
    certificateNames: cert.dnsNames.length ? cert.dnsNames : cert.commonName,
  };
  if (verdict.granted) {
    conn.partner = { domain: verdict.domain, name: verdict.name };
    logger.info("client certificate accepted: Partners", {
      ...fields,
      partner: verdict.name,
      partnerDomain: verdict.domain,
    });
    conn.plan.log?.(
      "*",
      `client certificate ${verdict.name} accepted as partner ${verdict.domain}`,
    );
    return;
  }
  logger.info("client certificate not accepted: anonymous", { ...fields, why: verdict.reason });
  conn.plan.log?.("*", `not a partner: ${verdict.reason}`);
}
