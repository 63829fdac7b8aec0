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

function query(name: string): Buffer {
  return dnsPacket.encode({
    type: "query",
    id: Math.floor(Math.random() * 65_535),
    // RFC 6840 §5.7: AD in a query asks the resolver to report it; DO (RFC 3225) asks for DNSSEC.
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    questions: [{ type: "TLSA", name, class: "IN" }],
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

/**
 * The TLSA RRset of `_25._tcp.<host>`. Authenticated only when the resolver set AD on a NOERROR
 * answer; records without AD are reported as unauthenticated (RFC 7672 §2.2: only secure TLSA
 * counts). NXDOMAIN and NODATA are "none"; SERVFAIL and silence from every server are "failed".
 */
export async function lookupTlsa(
  host: string,
  servers: string[] | undefined,
  options: TlsaClientOptions = {},
): Promise<TlsaAnswer> {
  const name = tlsaName(host);
  const ms = options.timeoutMs ?? 3000;
  const list = (servers?.length ? servers : getServers()).map(parseServer);
  const problems: string[] = [];
  for (const server of list) {
    try {
      const q = query(name);
      let raw = await overUdp(server, q, ms);
      if (dnsPacket.decode(raw).flag_tc) raw = await overTcp(server, q, ms);
      const answer = dnsPacket.decode(raw) as Packet & { rcode?: string; flag_ad?: boolean };
      if (answer.rcode === "NXDOMAIN") return { kind: "none" };
      if (answer.rcode !== "NOERROR") {
        problems.push(`${server.host}: ${answer.rcode}`);
        continue;
      }
      const records: TlsaRecord[] = (answer.answers ?? [])
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
      return answer.flag_ad ? { kind: "authenticated", records } : { kind: "unauthenticated" };
    } catch (error) {
      problems.push(`${server.host}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { kind: "failed", reason: problems.join("; ") || "no DNS server configured" };
}
