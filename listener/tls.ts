// The listener's TLS material (its certificate, the partner CA bundles): loaded, checked, re-read on an interval.
import { X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import type { SecretStore } from "#core/ports.ts";
import type { Logger } from "./logger.ts";

export interface TlsCertificatePair {
  cert: string;
  key: string;
}

/** Where the listener's TLS material comes from: PEM files locally, Secrets Manager in AWS. */
export interface TlsSource {
  /** A path or secret name, for log lines. */
  readonly label: string;
  /** The certificate chain and its key (PEM); rejects when they cannot be read. */
  certificate(): Promise<TlsCertificatePair>;
  /** The CA certificates (PEM) a receive connector's tlsClientCaBundle names; rejects when unreadable. */
  caBundle(name: string): Promise<string>;
}

/** Material given once, in the listener's settings; it never changes and names no CA bundle. */
export function staticTlsSource(pair: TlsCertificatePair): TlsSource {
  return {
    label: "listener settings",
    certificate: async () => pair,
    caBundle: async (name) => {
      throw new Error(`no CA bundle source is configured for ${JSON.stringify(name)}`);
    },
  };
}

/**
 * The listener's certificate as a secret holding {"cert": "<PEM chain>", "key": "<PEM>"}, and the CA
 * bundle `name` as the secret `tls/<name>` beside it (the task may read only secrets under `tls`).
 * The store's own cache decides how fresh a read is; rotation is picked up at the next refresh.
 */
export function secretTlsSource(secrets: SecretStore, secretName: string): TlsSource {
  return {
    label: `secret ${secretName}`,
    async certificate() {
      const parsed = JSON.parse(await secrets.get(secretName)) as Partial<TlsCertificatePair>;
      if (typeof parsed?.cert !== "string" || typeof parsed.key !== "string")
        throw new Error(`secret ${secretName} needs "cert" and "key" (PEM text)`);
      return { cert: parsed.cert, key: parsed.key };
    },
    caBundle(name) {
      if (name.startsWith("/") || name.split("/").includes(".."))
        throw new Error(
          `tlsClientCaBundle ${JSON.stringify(name)} must be a secret name under tls/`,
        );
      return secrets.get(`tls/${name}`);
    },
  };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Throws unless the pair loads as a TLS context (PEM complete, key matches the certificate). */
function checkPair(pair: TlsCertificatePair): X509Certificate {
  createSecureContext({ cert: pair.cert, key: pair.key });
  return new X509Certificate(pair.cert);
}

/** Throws unless every PEM block is a certificate and there is at least one. */
function checkBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new Error("no PEM certificate in it");
  return blocks.map((b) => new X509Certificate(b));
}

const describe = (c: X509Certificate) => ({
  subject: c.subject.replace(/\n/g, ", "),
  validTo: c.validTo,
  fingerprint256: c.fingerprint256,
});

/**
 * The material new TLS sessions use. A new certificate or bundle replaces the current one only
 * once it loads completely, so a renewal caught half-written (or a wrong key) is logged once and
 * the previous material stays in use; sessions already in TLS keep the context they started with.
 */
export class ListenerTls {
  readonly #source: TlsSource | undefined;
  readonly #logger: Logger;
  readonly #onChange: () => void;
  #pair: TlsCertificatePair | undefined;
  readonly #bundles = new Map<string, string>();
  /** Bundles the connectors name, read again on each refresh (also those that failed to load). */
  readonly #wanted = new Set<string>();
  /** The last problem logged per item, so a file that stays broken is reported once. */
  readonly #reported = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(source: TlsSource | undefined, logger: Logger, onChange: () => void) {
    this.#source = source;
    this.#logger = logger;
    this.#onChange = onChange;
  }

  get pair(): TlsCertificatePair | undefined {
    return this.#pair;
  }

  /** The loaded CA bundle of that name, or undefined when it could not be read. */
  bundle(name: string): string | undefined {
    return this.#bundles.get(name);
  }

  /** First load at start: a certificate that cannot be used stops the start, as before any session. */
  async load(): Promise<void> {
    if (!this.#source) return;
    const pair = await this.#source.certificate();
    try {
      const x = checkPair(pair);
      this.#pair = pair;
      this.#logger.info("TLS certificate loaded", { source: this.#source.label, ...describe(x) });
    } catch (error) {
      throw new Error(`TLS certificate from ${this.#source.label} is not usable: ${String(error)}`);
    }
  }

  /** Loads the bundles named that are not loaded yet (a connector that now names one). */
  async ensureBundles(names: Iterable<string>): Promise<void> {
    let changed = false;
    for (const name of names) {
      if (this.#wanted.has(name)) continue;
      this.#wanted.add(name);
      changed = (await this.#readBundle(name)) || changed;
    }
    if (changed) this.#onChange();
  }

  /** Re-reads the certificate and every bundle in use; applies what changed and loads. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const source = this.#source;
    if (!source) return;
    let changed = false;
    try {
      const pair = await source.certificate();
      if (pair.cert !== this.#pair?.cert || pair.key !== this.#pair?.key) {
        const x = checkPair(pair);
        this.#pair = pair;
        changed = true;
        this.#logger.info("TLS certificate reloaded; new sessions use it", {
          source: source.label,
          ...describe(x),
        });
      }
      this.#reported.delete("");
    } catch (error) {
      this.#report("", "new TLS certificate not usable; keeping the current one", {
        source: source.label,
        error: String(error),
      });
    }
    for (const name of [...this.#wanted]) changed = (await this.#readBundle(name)) || changed;
    if (changed) this.#onChange();
  }

  /** Reads one bundle; true when it was (re)loaded with new content. */
  async #readBundle(name: string): Promise<boolean> {
    if (!this.#source) return false;
    try {
      const pem = await this.#source.caBundle(name);
      if (pem === this.#bundles.get(name)) {
        this.#reported.delete(name);
        return false;
      }
      const certs = checkBundle(pem);
      this.#reported.delete(name);
      const first = !this.#bundles.has(name);
      this.#bundles.set(name, pem);
      this.#logger.info(first ? "client CA bundle loaded" : "client CA bundle reloaded", {
        tlsClientCaBundle: name,
        certificates: certs.map(describe),
      });
      return true;
    } catch (error) {
      const kept = this.#bundles.has(name);
      this.#report(
        name,
        kept
          ? "client CA bundle not usable; keeping the current one"
          : "client CA bundle not usable; no client certificate is asked for on its connectors",
        { tlsClientCaBundle: name, error: String(error) },
      );
      return false;
    }
  }

  #report(key: string, message: string, fields: Record<string, unknown>): void {
    const text = `${message} ${String(fields.error)}`;
    if (this.#reported.get(key) === text) return;
    this.#reported.set(key, text);
    this.#logger.warn(message, fields);
  }

  /** Re-reads every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    if (!this.#source) return;
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
