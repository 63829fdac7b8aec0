// TLSA lookups that read the DNSSEC AD bit: a dns-packet client over UDP (TCP when truncated) to the connector's resolver.
import { createSocket } from "node:dgram";
import { getServers } from "node:dns";
import { connect } from "node:net";
import dnsPacket, { type Packet } from "dns-packet";
import type { TlsaAnswer, TlsaRecord } from "#core/tls-policy/dane.ts";
import { tlsaName } from "#core/tls-policy/dane.ts";

export interface TlsaClientOptions {
  /** Per server and transport, in ms. Default 3000. */
  timeoutMs?: number;
}

/** "1.2.3.4", "1.2.3.4:53", "[::1]:53" or "::1" as { host, port }. */
export function parseServer(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1] as string, port: Number(v6[2] ?? 53) };
  const v4 = /^([^:]+):(\d+)$/.exec(text);
  if (v4) return { host: v4[1] as string, port: Number(v4[2]) };
  return { host: text, port: 53 };
}

function query(name: string, type: "TLSA" | "A" | "MX"): Buffer {
  return dnsPacket.encode({
    type: "query",
    id: Math.floor(Math.random() * 65_535),
    // RFC 6840 §5.7: AD in a query asks the resolver to report it; DO (RFC 3225) asks for DNSSEC.
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    questions: [{ type, name, class: "IN" }],
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: dnsPacket.DNSSEC_OK,
        flag_do: true,
        options: [],
      },
    ],
  });
}

function overUdp(server: { host: string; port: number }, q: Buffer, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(server.host.includes(":") ? "udp6" : "udp4");
    const timer = setTimeout(
      () => finish(new Error(`no answer from ${server.host} in ${ms} ms`)),
      ms,
    );
    const finish = (error?: Error, data?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(data as Buffer);
    };
    socket.on("error", (e) => finish(e));
    socket.on("message", (msg) => {
      // An answer must carry our id (RFC 5452: ignore anything else).
      if (msg.length >= 2 && msg.readUInt16BE(0) === q.readUInt16BE(0)) finish(undefined, msg);
    });
    socket.send(q, server.port, server.host);
  });
}

function overTcp(server: { host: string; port: number }, q: Buffer, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, server.host);
    let data = Buffer.alloc(0);
    socket.setTimeout(ms, () => socket.destroy(new Error(`no TCP answer from ${server.host}`)));
    socket.on("error", reject);
    socket.on("connect", () => socket.write(dnsPacket.streamEncode(dnsPacket.decode(q))));
    socket.on("data", (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 2 && data.length >= data.readUInt16BE(0) + 2) {
        socket.end();
        resolve(data.subarray(2, data.readUInt16BE(0) + 2));
      }
    });
  });
}

type Decoded = Packet & { rcode?: string; flag_ad?: boolean };

/** One question to the first server that answers NOERROR or NXDOMAIN; what every server said otherwise. */
async function ask(
  name: string,
  type: "TLSA" | "A" | "MX",
  servers: string[] | undefined,
  ms: number,
): Promise<{ ok: true; answer: Decoded } | { ok: false; reason: string }> {
  const list = (servers?.length ? servers : getServers()).map(parseServer);
  const problems: string[] = [];
  for (const server of list) {
    try {
      const q = query(name, type);
      let raw = await overUdp(server, q, ms);
      if (dnsPacket.decode(raw).flag_tc) raw = await overTcp(server, q, ms);
      const answer = dnsPacket.decode(raw) as Decoded;
      if (answer.rcode === "NOERROR" || answer.rcode === "NXDOMAIN") return { ok: true, answer };
      problems.push(`${server.host}: ${answer.rcode}`);
    } catch (error) {
      problems.push(`${server.host}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { ok: false, reason: problems.join("; ") || "no DNS server configured" };
}

/**
 * Whether the resolver validated the answer for (name, type): AD on NOERROR or NXDOMAIN (an
 * authenticated denial is secure too). A failed lookup counts as not secure.
 */
export async function isSecure(
  name: string,
  type: "A" | "MX",
  servers: string[] | undefined,
  options: TlsaClientOptions = {},
): Promise<boolean> {
  const r = await ask(name, type, servers, options.timeoutMs ?? 3000);
  return r.ok && r.answer.flag_ad === true;
}

/**
 * The TLSA RRset of `_25._tcp.<host>`. RFC 7672 §2.2.2: only a host whose address records are
 * secure has TLSA worth asking for; for it, records count when the resolver set AD, NXDOMAIN and
 * NODATA are "none", and a lookup that fails is "failed" (the host is then not used). Hosts with
 * insecure addresses are "unauthenticated" without a TLSA query, so broken name servers of
 * unsigned zones cannot hold mail up.
 */
export async function lookupTlsa(
  host: string,
  servers: string[] | undefined,
  options: TlsaClientOptions = {},
): Promise<TlsaAnswer> {
  const ms = options.timeoutMs ?? 3000;
  if (!(await isSecure(host, "A", servers, options))) return { kind: "unauthenticated" };
  const r = await ask(tlsaName(host), "TLSA", servers, ms);
  if (!r.ok) return { kind: "failed", reason: r.reason };
  if (r.answer.rcode === "NXDOMAIN") return { kind: "none" };
  const records: TlsaRecord[] = (r.answer.answers ?? [])
    .filter((a) => a.type === "TLSA")
    .map((a) => {
      const d = (a as { data: dnsPacket.TlsaData }).data;
      return {
        usage: d.usage,
        selector: d.selector,
        matchingType: d.matchingType,
        data: d.certificate.toString("hex"),
      };
    });
  if (records.length === 0) return { kind: "none" };
  return r.answer.flag_ad ? { kind: "authenticated", records } : { kind: "unauthenticated" };
}
