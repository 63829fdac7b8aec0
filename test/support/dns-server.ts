// A scripted authoritative DNS server on 127.0.0.1 (dns2, UDP) so delivery tests resolve MX and A records for real.
//
// dns2 in-process rather than dnsmasq: each test scripts its own zone (including SERVFAIL,
// NXDOMAIN and silence) and changes it between attempts without config files or a child process.
import { Packet, UDPServer } from "dns2";

export interface ZoneEntry {
  MX?: { exchange: string; priority: number }[];
  A?: string[];
  AAAA?: string[];
  /** One entry per TXT record, each the record's character-strings (at most 255 octets each). */
  TXT?: string[][];
}

/**
 * What the server answers for a name: records (a type without records answers NOERROR with no
 * data, i.e. ENODATA), or a failure for every type: NXDOMAIN, SERVFAIL, or no answer at all.
 */
export type ZoneAnswer = ZoneEntry | "NXDOMAIN" | "SERVFAIL" | "SILENT";

export interface TestDnsServer {
  /** "127.0.0.1:port", as a send connector's externalDnsServers lists it. */
  readonly address: string;
  readonly port: number;
  /** Names are matched case-insensitively without a trailing dot; unknown names are NXDOMAIN. */
  zone: Map<string, ZoneAnswer>;
  set(name: string, answer: ZoneAnswer): void;
  /** Every question received, as "TYPE name". */
  readonly queries: string[];
  close(): Promise<void>;
}

const TYPE_NAME: Record<number, string> = {
  [Packet.TYPE.A]: "A",
  [Packet.TYPE.AAAA]: "AAAA",
  [Packet.TYPE.MX]: "MX",
  [Packet.TYPE.TXT]: "TXT",
};

const norm = (name: string) => name.toLowerCase().replace(/\.$/, "");

function answerFor(
  name: string,
  type: number,
  entry: ZoneEntry,
): { name: string; type: number; class: number; ttl: number; [k: string]: unknown }[] {
  const base = { name, class: Packet.CLASS.IN, ttl: 60 };
  if (type === Packet.TYPE.MX)
    return (entry.MX ?? []).map((mx) => ({
      ...base,
      type,
      exchange: mx.exchange === "." ? "" : mx.exchange,
      priority: mx.priority,
    }));
  if (type === Packet.TYPE.A) return (entry.A ?? []).map((address) => ({ ...base, type, address }));
  if (type === Packet.TYPE.AAAA)
    return (entry.AAAA ?? []).map((address) => ({ ...base, type, address }));
  if (type === Packet.TYPE.TXT) return (entry.TXT ?? []).map((data) => ({ ...base, type, data }));
  return [];
}

export async function startDnsServer(
  initial: Record<string, ZoneAnswer> = {},
): Promise<TestDnsServer> {
  const zone = new Map<string, ZoneAnswer>(Object.entries(initial).map(([k, v]) => [norm(k), v]));
  const queries: string[] = [];
  const server = new UDPServer((request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    if (!question) return void send(response);
    queries.push(`${TYPE_NAME[question.type] ?? question.type} ${norm(question.name)}`);
    const answer = zone.get(norm(question.name)) ?? "NXDOMAIN";
    if (answer === "SILENT") return;
    response.header.aa = 1;
    if (answer === "NXDOMAIN") response.header.rcode = Packet.RCODE.NXDOMAIN;
    else if (answer === "SERVFAIL") response.header.rcode = Packet.RCODE.SERVFAIL;
    else response.answers.push(...(answerFor(question.name, question.type, answer) as never[]));
    void send(response);
  });
  await server.listen(0, "127.0.0.1");
  const port = server.address().port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    zone,
    queries,
    set(name, answer) {
      zone.set(norm(name), answer);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
