// DKIM in tests: publish the records `relay dkim-signing-config` printed on the loopback DNS server, and verify with mailauth through it.
import { Resolver } from "node:dns/promises";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import type { TestDnsServer } from "./dns-server.ts";

export interface PrintedDnsRecord {
  name: string;
  type: string;
  value: string;
}

/** The character-strings of a printed value: `"a" "b"` as two strings, a bare value as one. */
export function txtStrings(value: string): string[] {
  const quoted = [...value.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? "");
  return quoted.length ? quoted : [value];
}

/** Serves every printed record as the admin would publish it (the server splits it again at 255 octets). */
export function publish(dns: TestDnsServer, records: PrintedDnsRecord[]): void {
  for (const r of records) dns.set(r.name, { TXT: [txtStrings(r.value).join("")] });
}

/** mailauth's verifier with a resolver that asks the loopback server (no real DNS). */
export async function verifyDkim(raw: Buffer, dns: TestDnsServer) {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([dns.address]);
  const result = await dkimVerify(raw, {
    resolver: (async (name: string, type: string) => {
      if (type !== "TXT") throw Object.assign(new Error("not served"), { code: "ENOTFOUND" });
      return resolver.resolveTxt(name);
    }) as never,
  });
  return result.results.map((r) => ({
    domain: r.signingDomain,
    selector: r.selector,
    result: r.status.result,
    comment: r.status.comment,
  }));
}

/** The DKIM-Signature fields of a raw message, unfolded. */
export function dkimSignatures(raw: Buffer): string[] {
  const head = raw.toString("utf8").split(/\r\n\r\n/)[0] ?? "";
  return head
    .replace(/\r\n[ \t]+/g, " ")
    .split("\r\n")
    .filter((l) => /^dkim-signature:/i.test(l));
}
