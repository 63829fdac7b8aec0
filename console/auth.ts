// Who may use the console: the printed token opens a session (an HttpOnly SameSite=Strict cookie), and every change carries the session's CSRF token from the console's own origin.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const SESSION_COOKIE = "relay_console";
/** A session ends after a working day without use, like an admin center's sign-in. */
const IDLE_MS = 8 * 3600_000;

export interface Session {
  csrf: string;
  /** What the last change did, shown once on the next page. */
  flash?: string;
  /** Who made the changes, for the change log: the OS user and the browser's address. */
  who: string;
  lastUsed: number;
}

const token = () => randomBytes(32).toString("base64url");

/** Constant-time comparison, so a wrong token takes as long as a right one. */
export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class ConsoleAuth {
  /** The secret in the printed address (Jupyter's pattern): whoever can read the terminal may sign in. */
  readonly loginToken = token();
  readonly #sessions = new Map<string, Session>();

  readonly #origin: string;
  readonly #secure: boolean;
  readonly #admin: string;

  constructor(origin: string, secure: boolean, admin: string) {
    this.#origin = origin;
    this.#secure = secure;
    this.#admin = admin;
  }

  /** Opens a session when `given` is the login token; the Set-Cookie header, or undefined. */
  login(given: string | undefined, remote: string): string | undefined {
    if (!sameSecret(given, this.loginToken)) return undefined;
    const id = token();
    this.#sessions.set(id, {
      csrf: token(),
      who: `${this.#admin} from ${remote}`,
      lastUsed: Date.now(),
    });
    return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict${this.#secure ? "; Secure" : ""}`;
  }

  /** The request's live session, or undefined. */
  session(req: IncomingMessage): Session | undefined {
    const id = cookieOf(req, SESSION_COOKIE);
    const s = id === undefined ? undefined : this.#sessions.get(id);
    if (!s || id === undefined) return undefined;
    if (Date.now() - s.lastUsed > IDLE_MS) {
      this.#sessions.delete(id);
      return undefined;
    }
    s.lastUsed = Date.now();
    return s;
  }

  logout(req: IncomingMessage): void {
    const id = cookieOf(req, SESSION_COOKIE);
    if (id !== undefined) this.#sessions.delete(id);
  }

  /**
   * Why a change request is refused, or undefined when it may proceed: it must come from this
   * console's own page (Origin, else Referer, equal to ours; browsers send one of them with every
   * POST) and carry the session's CSRF token. SameSite=Strict alone would leave same-site pages
   * and older browsers; the token does not.
   */
  refuseChange(
    req: IncomingMessage,
    session: Session,
    csrf: string | undefined,
  ): string | undefined {
    const origin = req.headers.origin ?? refererOrigin(req.headers.referer);
    if (origin !== this.#origin) return `the request did not come from ${this.#origin}`;
    if (!sameSecret(csrf, session.csrf)) return "the form's CSRF token is missing or wrong";
    return undefined;
  }
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}
