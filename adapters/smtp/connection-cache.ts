// Idle SMTP connections kept for the next delivery to the same host, as Postfix's connection cache
// does: opening a connection (and TLS, and AUTH) costs more than the transaction it carries.
import type SMTPConnection from "nodemailer/lib/smtp-connection";

export interface CachedSession {
  conn: SMTPConnection;
  /** Rejects when the connection errs or closes (see `watch` in courier.ts). */
  broken: Promise<never>;
  uses: number;
}

interface Parked {
  session: CachedSession;
  timer: NodeJS.Timeout;
}

export interface ConnectionCacheOptions {
  /** How long an idle connection is kept (Postfix's smtp_connection_cache_time_limit is 2 s). */
  idleMs?: number;
  /** Transactions one connection may carry before it is closed (Postfix: smtp_connection_reuse_count_limit). */
  maxUses?: number;
  /** Idle connections kept per destination. */
  maxIdlePerKey?: number;
}

export class ConnectionCache {
  readonly #idle = new Map<string, Parked[]>();
  readonly #idleMs: number;
  readonly #maxUses: number;
  readonly #maxIdle: number;

  constructor(options: ConnectionCacheOptions = {}) {
    this.#idleMs = options.idleMs ?? 2000;
    this.#maxUses = options.maxUses ?? 100;
    this.#maxIdle = options.maxIdlePerKey ?? 10;
  }

  /** An idle connection for `key`, or undefined; the caller must check it with RSET before use. */
  take(key: string): CachedSession | undefined {
    const list = this.#idle.get(key);
    const parked = list?.pop();
    if (!parked) return undefined;
    if (list?.length === 0) this.#idle.delete(key);
    clearTimeout(parked.timer);
    return parked.session;
  }

  /** Keeps a connection whose last transaction ended cleanly; closes it when it is not wanted. */
  park(key: string, session: CachedSession): void {
    const list = this.#idle.get(key) ?? [];
    if (session.uses >= this.#maxUses || list.length >= this.#maxIdle) {
      session.conn.quit();
      return;
    }
    const parked: Parked = {
      session,
      timer: setTimeout(() => {
        this.#remove(key, parked);
        session.conn.quit();
      }, this.#idleMs),
    };
    parked.timer.unref();
    // A connection the server closes while it waits here is dropped from the cache.
    session.broken.catch(() => this.#remove(key, parked));
    list.push(parked);
    this.#idle.set(key, list);
  }

  #remove(key: string, parked: Parked): void {
    clearTimeout(parked.timer);
    const list = this.#idle.get(key);
    if (!list) return;
    const i = list.indexOf(parked);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#idle.delete(key);
  }

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.#idle.values()) {
      for (const p of list) {
        clearTimeout(p.timer);
        p.session.conn.quit();
      }
    }
    this.#idle.clear();
  }

  get idleCount(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }
}
