// First-start records for local mode: a loopback relay, a client submission connector and a send connector by MX.
import type { RecordStore } from "#core/ports.ts";

export const SEED_RECORDS: Record<string, unknown>[] = [
  {
    kind: "ReceiveConnector",
    name: "Loopback Relay",
    comment: "Anonymous relay for apps on this machine (Exchange's anonymous relay connector).",
    bindings: ["127.0.0.1:2525", "[::1]:2525"],
    remoteIpRanges: ["127.0.0.0/8", "::1"],
    authMechanisms: ["None"],
    permissionGroups: ["AnonymousUsers"],
    grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
    greetingDelay: 0,
    protocolLogging: "Verbose",
  },
  {
    kind: "ReceiveConnector",
    name: "Client Submission",
    comment:
      "Authenticated submission (Exchange's Client Frontend): STARTTLS, then AUTH, then relay.",
    bindings: ["127.0.0.1:2587"],
    remoteIpRanges: ["0.0.0.0/0", "::/0"],
    authMechanisms: ["Tls", "BasicAuthRequireTls"],
    permissionGroups: ["Users"],
    requireTls: true,
    greetingDelay: 0,
    protocolLogging: "Verbose",
  },
  {
    kind: "SendConnector",
    name: "To Internet",
    comment: "New-SendConnector -Name 'To Internet' -Usage Internet -AddressSpaces *",
    usage: "Internet",
    addressSpaces: [{ domain: "*", cost: 1 }],
    dnsRoutingEnabled: true,
    protocolLogging: "Verbose",
  },
];

/** Writes the seed records when the store is empty; resolves whether it did. */
export async function seedRecords(store: RecordStore): Promise<boolean> {
  if ((await store.list()).length > 0) return false;
  for (const r of SEED_RECORDS) await store.put(r);
  return true;
}
