// DKIM, SPF, DMARC and ARC of a saved message through mailauth, with DNS from the servers the admin names.
import { Resolver } from "node:dns/promises";
import { authenticate } from "mailauth";
import { fieldsNamed, type HeaderSection } from "./headers.ts";
import type { Route } from "./route.ts";

export interface AuthReport {
  dkim: {
    domain?: string;
    selector?: string;
    result: string;
    aligned?: string | false;
    comment?: string;
  }[];
  spf: { result: string; ip?: string; helo?: string; domain?: string; comment?: string };
  dmarc: { result: string; domain?: string; policy?: string; comment?: string };
  arc: { result: string; comment?: string };
  /** What the receiving servers recorded themselves (Authentication-Results fields, newest first). */
  recorded: string[];
}

/** mailauth's resolver: Node's, pointed at the given servers ("ip" or "ip:port"), with a timeout. */
export function dnsResolver(servers: string[] | undefined, timeoutMs: number) {
  const r = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (servers?.length) r.setServers(servers);
  return (name: string, rrtype: string) =>
    r.resolve(name, rrtype) as Promise<string[][] | string[]>;
}

const status = (s: { result: string; comment?: string } | undefined) => ({
  result: s?.result ?? "none",
  ...(s?.comment ? { comment: s.comment } : {}),
});

/**
 * Checks as the recipient's server would have: SPF for the client of the newest hop (the one that
 * handed the message over), DKIM over the message as saved, DMARC alignment of both with From.
 */
export async function checkAuthentication(
  message: Buffer,
  section: HeaderSection,
  route: Route,
  options: { dnsServers?: string[]; timeoutMs?: number },
): Promise<AuthReport> {
  const handoff = route.hops[route.hops.length - 1];
  const returnPath = fieldsNamed(section, "Return-Path")[0]?.replace(/[<>\s]/g, "");
  const result = await authenticate(message, {
    resolver: dnsResolver(options.dnsServers, options.timeoutMs ?? 5000),
    ...(handoff?.fromIp ? { ip: handoff.fromIp } : {}),
    ...(handoff?.from ? { helo: handoff.from } : {}),
    ...(returnPath ? { sender: returnPath } : {}),
    ...(handoff?.by ? { mta: handoff.by } : {}),
    disableBimi: true,
  });
  const spf = result.spf
    ? {
        ...status(result.spf.status),
        ip: result.spf["client-ip"],
        domain: result.spf.domain,
        ...(result.spf.helo ? { helo: result.spf.helo } : {}),
      }
    : { result: "none", comment: "no client address in the newest Received field" };
  if (!handoff?.fromIp) {
    spf.result = "none";
    spf.comment = "no client address in the newest Received field: SPF cannot be checked";
  }
  const dmarc = result.dmarc
    ? {
        ...status(result.dmarc.status),
        domain: result.dmarc.domain,
        policy: result.dmarc.p || "none",
      }
    : { result: "none", comment: result.dmarcSkipReason ?? "no From domain" };
  return {
    dkim: (result.dkim.results ?? []).map((r) => ({
      ...(r.signingDomain ? { domain: r.signingDomain } : {}),
      ...(r.selector ? { selector: r.selector } : {}),
      ...status(r.status),
      ...(r.status.aligned !== undefined ? { aligned: r.status.aligned } : {}),
    })),
    spf,
    dmarc,
    arc: result.arc ? status(result.arc.status) : { result: "none" },
    recorded: fieldsNamed(section, "Authentication-Results").map((v) => v.slice(0, 998)),
  };
}
