// A loopback DNS server on dns-packet (UDP) that answers MX, A, TXT and TLSA and sets the AD bit where a test says the zone validated.
//
// dns-packet rather than dns2: dns2 cannot encode TLSA records. The AD flag is scripted per name,
// standing in for a validating resolver (Route 53 Resolver, unbound): no real DNSSEC chain exists
// on loopback, so this is the one part of the DANE tests that is simulated.
import { createSocket } from "node:dgram";
import type { AddressInfo } from "node:net";
import dnsPacket, { type Answer } from "dns-packet";

export interface SecureZoneEntry {
  MX?: { exchange: string; priority: number }[];
  A?: string[];
  TXT?: string[];
  TLSA?: { usage: number; selector: number; matchingType: number; data: string }[];
  /** Answers for this name carry AD (the resolver validated them). */
  ad?: boolean;
  /** Every question for this name is answered SERVFAIL. */
  servfail?: boolean;
}

export interface TestSecureDns {
  readonly address: string;
  set(name: string, entry: SecureZoneEntry): void;
  /** Questions received, as "TYPE name". */
  readonly queries: string[];
  close(): Promise<void>;
}

const norm = (name: string) => name.toLowerCase().replace(/\.$/, "");

function answers(name: string, type: string, e: SecureZoneEntry): Answer[] {
  const base = { name, ttl: 60, class: "IN" as const };
  if (type === "MX")
    return (e.MX ?? []).map((m) => ({
      ...base,
      type: "MX",
      data: { preference: m.priority, exchange: m.exchange },
    }));
  if (type === "A") return (e.A ?? []).map((a) => ({ ...base, type: "A", data: a }));
  if (type === "TXT") return (e.TXT ?? []).map((t) => ({ ...base, type: "TXT", data: [t] }));
  if (type === "TLSA")
    return (e.TLSA ?? []).map((t) => ({
      ...base,
      type: "TLSA",
      data: {
        usage: t.usage,
        selector: t.selector,
        matchingType: t.matchingType,
        certificate: Buffer.from(t.data, "hex"),
      },
    }));
  return [];
}

export async function startSecureDns(
  initial: Record<string, SecureZoneEntry> = {},
): Promise<TestSecureDns> {
  const zone = new Map(Object.entries(initial).map(([k, v]) => [norm(k), v]));
  const queries: string[] = [];
  const socket = createSocket("udp4");
  socket.on("message", (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    queries.push(`${question.type} ${norm(question.name)}`);
    const entry = zone.get(norm(question.name));
    let rcode = 0;
    let list: Answer[] = [];
    if (!entry)
      rcode = 3; // NXDOMAIN
    else if (entry.servfail) rcode = 2;
    else list = answers(question.name, question.type, entry);
    // QR, RD, RA, and AD (bit 5) when scripted; rcode in the low four bits.
    const flags = 0x8000 | 0x0100 | 0x0080 | (entry?.ad && rcode === 0 ? 0x0020 : 0) | rcode;
    const reply = dnsPacket.encode({
      type: "response",
      id: q.id ?? 0,
      flags,
      questions: [question],
      answers: list,
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const port = (socket.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    queries,
    set(name, entry) {
      zone.set(norm(name), entry);
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
