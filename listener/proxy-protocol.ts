// PROXY protocol v1 (text) and v2 (binary) header parsing: the client address a load balancer passes on.
import { isIPv4, isIPv6 } from "node:net";
import ipaddr from "ipaddr.js";
import { normalizeIp } from "#core/net/ip-range.ts";

export interface ProxyAddress {
  ip: string;
  port: number;
}

/**
 * `proxy`: the connection was relayed for `source`. `local`: the balancer speaks for itself (v2
 * LOCAL, e.g. its health checks; v1 UNKNOWN; v2 with an address family we do not serve), so the
 * receiver must use the socket's own addresses — which are the balancer's.
 */
export type ProxyHeader =
  | { version: 1 | 2; command: "proxy"; source: ProxyAddress; destination: ProxyAddress }
  | { version: 1 | 2; command: "local" };

export type ProxyParse =
  | { status: "incomplete" }
  | { status: "invalid"; reason: string }
  | { status: "parsed"; header: ProxyHeader; length: number };

/** The 12-byte v2 signature (spec §2.2). */
export const PROXY_V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
const V1_PREFIX = Buffer.from("PROXY ");
/** Spec §2.1: a v1 line is at most 107 bytes including CRLF. */
const V1_MAX = 107;
/** v2 allows 64 KiB of TLVs; balancers send a few dozen bytes (NLB: the VPC endpoint id). */
const V2_MAX_BODY = 4096;

/** Spec §2.2 address families over STREAM: addresses then ports, source first. */
const V2_TCP_FAMILIES: Partial<Record<number, { name: string; addressBytes: number }>> = {
  17: { name: "TCP4", addressBytes: 4 },
  33: { name: "TCP6", addressBytes: 16 },
};

const invalid = (reason: string): ProxyParse => ({ status: "invalid", reason });

function startsWithPrefixOf(data: Uint8Array, expected: Uint8Array): boolean {
  const n = Math.min(data.length, expected.length);
  for (let i = 0; i < n; i++) if (data[i] !== expected[i]) return false;
  return true;
}

/** Parses the header at the start of `data`; `length` is how many bytes it took. */
export function parseProxyHeader(data: Uint8Array): ProxyParse {
  if (data.length === 0) return { status: "incomplete" };
  if (startsWithPrefixOf(data, PROXY_V2_SIGNATURE)) {
    return data.length < PROXY_V2_SIGNATURE.length ? { status: "incomplete" } : parseV2(data);
  }
  if (startsWithPrefixOf(data, V1_PREFIX)) return parseV1(data);
  return invalid("no PROXY header");
}

function parseV1(data: Uint8Array): ProxyParse {
  const buf = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, V1_MAX));
  const end = buf.indexOf("\r\n");
  if (end < 0)
    return data.length >= V1_MAX ? invalid("v1 line too long") : { status: "incomplete" };
  const parts = buf.subarray(0, end).toString("latin1").split(" ");
  const length = end + 2;
  if (parts[1] === "UNKNOWN")
    return { status: "parsed", header: { version: 1, command: "local" }, length };
  if (parts.length !== 6) return invalid("v1 header needs 6 fields");
  const [, family, src, dst, sport, dport] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const familyOk = family === "TCP4" ? isIPv4 : family === "TCP6" ? isIPv6 : undefined;
  if (!familyOk) return invalid(`v1 unknown protocol ${JSON.stringify(family)}`);
  if (!familyOk(src) || !familyOk(dst)) return invalid("v1 address does not match its protocol");
  const sourcePort = v1Port(sport);
  const destinationPort = v1Port(dport);
  if (sourcePort === undefined || destinationPort === undefined) return invalid("v1 bad port");
  return {
    status: "parsed",
    length,
    header: {
      version: 1,
      command: "proxy",
      source: { ip: normalizeIp(src) ?? src, port: sourcePort },
      destination: { ip: normalizeIp(dst) ?? dst, port: destinationPort },
    },
  };
}

function v1Port(text: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

function parseV2(data: Uint8Array): ProxyParse {
  if (data.length < 16) return { status: "incomplete" };
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const verCmd = buf[12]!;
  const family = buf[13]!;
  const bodyLength = buf.readUInt16BE(14);
  if (verCmd >> 4 !== 2) return invalid("v2 unsupported version");
  const command = verCmd & 0x0f;
  if (command > 1) return invalid("v2 unknown command");
  if (bodyLength > V2_MAX_BODY) return invalid("v2 header too long");
  const length = 16 + bodyLength;
  if (buf.length < length) return { status: "incomplete" };
  const local: ProxyParse = { status: "parsed", header: { version: 2, command: "local" }, length };
  // Spec §2.2: with LOCAL the receiver ignores the address block and uses the real endpoints.
  if (command === 0) return local;
  const body = buf.subarray(16, length);
  const tcp = V2_TCP_FAMILIES[family];
  if (tcp) {
    const n = tcp.addressBytes;
    if (body.length < 2 * n + 4) return invalid(`v2 ${tcp.name} address block too short`);
    return {
      status: "parsed",
      length,
      header: {
        version: 2,
        command: "proxy",
        source: { ip: v2Ip(body.subarray(0, n)), port: body.readUInt16BE(2 * n) },
        destination: { ip: v2Ip(body.subarray(n, 2 * n)), port: body.readUInt16BE(2 * n + 2) },
      },
    };
  }
  // UNSPEC, UDP and UNIX sockets: spec §2.2 says to accept the connection with the real endpoints.
  return local;
}

function v2Ip(bytes: Uint8Array): string {
  const text = ipaddr.fromByteArray([...bytes]).toString();
  return normalizeIp(text) ?? text;
}

/** Builds a v2 header (for tests and tools that stand in for a balancer). */
export function encodeProxyV2(
  header:
    | { command: "local" }
    | { command: "proxy"; source: ProxyAddress; destination: ProxyAddress },
  tlvs: Uint8Array = new Uint8Array(0),
): Buffer {
  if (header.command === "local") {
    const out = Buffer.alloc(16 + tlvs.length);
    PROXY_V2_SIGNATURE.copy(out);
    out[12] = 0x20;
    out[13] = 0x00;
    out.writeUInt16BE(tlvs.length, 14);
    out.set(tlvs, 16);
    return out;
  }
  const src = ipaddr.parse(header.source.ip).toByteArray();
  const dst = ipaddr.parse(header.destination.ip).toByteArray();
  const v6 = src.length === 16;
  const addrLength = v6 ? 36 : 12;
  const out = Buffer.alloc(16 + addrLength + tlvs.length);
  PROXY_V2_SIGNATURE.copy(out);
  out[12] = 0x21;
  out[13] = v6 ? 0x21 : 0x11;
  out.writeUInt16BE(addrLength + tlvs.length, 14);
  out.set(src, 16);
  out.set(dst, 16 + src.length);
  out.writeUInt16BE(header.source.port, 16 + 2 * src.length);
  out.writeUInt16BE(header.destination.port, 18 + 2 * src.length);
  out.set(tlvs, 16 + addrLength);
  return out;
}
