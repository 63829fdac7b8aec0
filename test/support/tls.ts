// A throwaway test PKI: one CA and server certificates it signs, for TLS over loopback in tests.
import { generate } from "selfsigned";

export interface TestCa {
  cert: string;
  key: string;
}

export interface TestCertificate {
  cert: string;
  key: string;
}

/** A fresh certificate authority (self-signed, CA:true). */
export async function createTestCa(name = "connector-relay test CA"): Promise<TestCa> {
  const r = await generate([{ name: "commonName", value: name }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      {
        name: "keyUsage",
        keyCertSign: true,
        cRLSign: true,
        digitalSignature: true,
        critical: true,
      },
    ],
  });
  return { cert: r.cert, key: r.private };
}

/** A server certificate for the given DNS names and IPs, signed by `ca` (or self-signed without one). */
export async function createServerCertificate(
  names: string[],
  ca?: TestCa,
  ips: string[] = ["127.0.0.1"],
): Promise<TestCertificate> {
  const r = await generate([{ name: "commonName", value: names[0] ?? "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          ...names.map((value) => ({ type: 2 as const, value })),
          ...ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
    ...(ca ? { ca } : {}),
  });
  return { cert: r.cert, key: r.private };
}

/**
 * A client certificate for mutual TLS (extKeyUsage clientAuth) signed by `ca`: subjectAltName
 * dNSNames `names` (none when empty, so only the CN speaks for it), valid in the given window.
 */
export async function createClientCertificate(
  ca: TestCa,
  options: { names?: string[]; commonName?: string; notBefore?: Date; notAfter?: Date } = {},
): Promise<TestCertificate> {
  const names = options.names ?? [];
  const r = await generate(
    [{ name: "commonName", value: options.commonName ?? names[0] ?? "client" }],
    {
      keyType: "ec",
      curve: "P-256",
      algorithm: "sha256",
      ...(options.notBefore ? { notBeforeDate: options.notBefore } : {}),
      ...(options.notAfter ? { notAfterDate: options.notAfter } : {}),
      extensions: [
        { name: "basicConstraints", cA: false, critical: true },
        { name: "keyUsage", digitalSignature: true, critical: true },
        { name: "extKeyUsage", clientAuth: true, serverAuth: true },
        ...(names.length
          ? [
              {
                name: "subjectAltName" as const,
                altNames: names.map((value) => ({ type: 2 as const, value })),
              },
            ]
          : []),
      ],
      ca,
    },
  );
  return { cert: r.cert, key: r.private };
}
