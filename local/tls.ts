// The listener's TLS certificate in local mode: files named by the admin, or a generated self-signed one.
import { mkdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { isAbsolute, join } from "node:path";
import { generate } from "selfsigned";
import { writeFileDurably } from "#adapters/local/durable-file.ts";
import type { TlsSource } from "#listener/tls.ts";

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where it came from, for the start-up message. */
  source: string;
  /** The PEM files, re-read while the relay runs so a renewed certificate needs no restart. */
  certPath: string;
  keyPath: string;
  generated: boolean;
}

/**
 * The listener's TLS files, read again at each refresh. Re-reading on an interval rather than
 * fs.watch: renewal tools (certbot, acme.sh) replace files by rename, which ends a watch on the
 * old file; a pair caught half-written fails the listener's check and is retried next time.
 * A receive connector's tlsClientCaBundle is a path, relative to `dir` unless absolute.
 */
export function fileTlsSource(
  material: Pick<TlsMaterial, "certPath" | "keyPath">,
  dir: string,
): TlsSource {
  return {
    label: material.certPath,
    async certificate() {
      const [cert, key] = await Promise.all([
        readFile(material.certPath, "utf8"),
        readFile(material.keyPath, "utf8"),
      ]);
      return { cert, key };
    },
    caBundle: (name) => readFile(isAbsolute(name) ? name : join(dir, name), "utf8"),
  };
}

/**
 * RELAY_TLS_CERT and RELAY_TLS_KEY (PEM file paths) win; otherwise `<dir>/cert.pem` and `key.pem`,
 * generated self-signed for the host name on first start (clients must then trust it or skip
 * verification, as with Exchange's self-signed default certificate).
 */
export async function loadOrCreateTls(dir: string, hostName = hostname()): Promise<TlsMaterial> {
  const certPath = process.env.RELAY_TLS_CERT;
  const keyPath = process.env.RELAY_TLS_KEY;
  if (certPath || keyPath) {
    if (!certPath || !keyPath)
      throw new Error("set both RELAY_TLS_CERT and RELAY_TLS_KEY (PEM files), or neither");
    return {
      cert: await readFile(certPath, "utf8"),
      key: await readFile(keyPath, "utf8"),
      source: certPath,
      certPath,
      keyPath,
      generated: false,
    };
  }
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  try {
    return {
      cert: await readFile(cert, "utf8"),
      key: await readFile(key, "utf8"),
      source: cert,
      certPath: cert,
      keyPath: key,
      generated: false,
    };
  } catch {
    await mkdir(join(dir, ".tmp"), { recursive: true, mode: 0o700 });
    const r = await generate([{ name: "commonName", value: hostName }], {
      keyType: "ec",
      curve: "P-256",
      algorithm: "sha256",
      notAfterDate: new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000),
      extensions: [
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: hostName },
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
            { type: 7, ip: "::1" },
          ],
        },
      ],
    });
    await writeFileDurably(dir, "key.pem", r.private, { tmpDir: join(dir, ".tmp"), mode: 0o600 });
    await writeFileDurably(dir, "cert.pem", r.cert, { tmpDir: join(dir, ".tmp"), mode: 0o644 });
    return {
      cert: r.cert,
      key: r.private,
      source: cert,
      certPath: cert,
      keyPath: key,
      generated: true,
    };
  }
}
