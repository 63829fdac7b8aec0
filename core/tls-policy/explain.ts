// What outbound TLS policy a send connector applies, in words, for `relay route explain`.
import type { SendConnector } from "../records/send-connector.ts";

function ownTls(c: SendConnector): string {
  if (!c.requireTls) return "opportunistic TLS (STARTTLS when offered, certificate not checked)";
  const level = c.tlsAuthLevel ?? "EncryptionOnly";
  return `TLS required (${level}${c.tlsDomain ? `, ${c.tlsDomain}` : ""})`;
}

/**
 * The order the deliver function applies per MX host (RFC 8461 §2: DANE before MTA-STS); smart
 * hosts keep the connector's own settings because MTA-STS and DANE describe a domain's MX hosts.
 */
export function explainTlsPolicy(c: SendConnector): string {
  if (!c.dnsRoutingEnabled) return `smart hosts: the connector's own TLS: ${ownTls(c)}`;
  const steps: string[] = [];
  if (c.daneEnabled && c.dnssecValidatingResolver)
    steps.push("DANE when the MX host's TLSA records are DNSSEC-authenticated");
  if (c.mtaStsEnabled) steps.push("the domain's MTA-STS policy when one is published");
  steps.push(ownTls(c));
  const off = [
    !c.daneEnabled
      ? "DANE off"
      : c.dnssecValidatingResolver
        ? ""
        : "DANE off: dnssecValidatingResolver is false",
    c.mtaStsEnabled ? "" : "MTA-STS off",
  ].filter(Boolean);
  return `MX: ${steps.join(", else ")}${off.length ? ` (${off.join("; ")})` : ""}`;
}
