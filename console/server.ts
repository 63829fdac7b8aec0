// The admin console's web server (node:http): loopback only unless TLS is given, signed in by the printed token, every change checked for CSRF and logged.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { userInfo } from "node:os";
import type { Logger } from "@aws-lambda-powertools/logger";
import { createLogger } from "#adapters/observability/logger.ts";
import type { CliContext } from "#cli/context.ts";
import { auditOn, type ConsoleApp, type ConsoleRequest, type ConsoleRoute } from "./app.ts";
import { ConsoleAuth } from "./auth.ts";
import { html } from "./html.ts";
import { bare, staticFile } from "./layout.ts";
import { ROUTES } from "./routes.ts";

export interface ConsoleOptions {
  ctx: CliContext;
  /** Address to listen on; default 127.0.0.1. Anything but loopback needs `tls`. */
  host?: string;
  port: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Where the change log goes; default Powertools' logger on stderr. */
  logger?: Logger;
  /** Shown in the header: "local mode" or "AWS (stack ...)". */
  runtime: string;
}

export interface RunningConsole {
  /** The address to print: it signs the browser in once. */
  loginUrl: string;
  origin: string;
  close(): Promise<void>;
}

export class ConsoleConfigError extends Error {
  override readonly name = "ConsoleConfigError";
}

/** A form larger than this is not an admin's: refused before it is read. */
const MAX_FORM_BYTES = 64 * 1024;

export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);

// The page itself, htmx and the stylesheet are all the console loads; nothing may frame it.
const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on POST.
  "Referrer-Policy": "same-origin",
  "Cache-Control": "no-store",
};

function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "Content-Type": "text/html; charset=utf-8",
    ...headers,
  });
  res.end(body);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | "too-large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return "too-large";
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export async function startConsole(o: ConsoleOptions): Promise<RunningConsole> {
  const host = o.host ?? "127.0.0.1";
  if (!isLoopback(host) && !o.tls)
    throw new ConsoleConfigError(
      `the console listens on ${host}, beyond this machine: give a certificate and key (--tls-cert, --tls-key; RELAY_CONSOLE_TLS_CERT, RELAY_CONSOLE_TLS_KEY) or keep it on 127.0.0.1`,
    );
  const logger = o.logger ?? createLogger("relay-console", process.stderr);
  const app: ConsoleApp = { ctx: o.ctx, runtime: o.runtime, audit: auditOn(logger) };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: Error) => {
      logger.error("console request failed", { path: req.url, error });
      if (!res.headersSent)
        send(res, 500, bare("Something went wrong", html`<p>${error.message}</p>`).text);
      else res.end();
    });
  };
  const server = o.tls
    ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  const origin = `${o.tls ? "https" : "http"}://${shown}:${port}`;
  // DNS rebinding: a page on evil.example resolving to 127.0.0.1 reaches us with its own Host.
  const hosts = new Set([
    `${shown}:${port}`,
    ...(host === "127.0.0.1" ? [`localhost:${port}`] : []),
  ]);
  const auth = new ConsoleAuth(origin, o.tls !== undefined, userInfo().username);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hosts.has(req.headers.host ?? "")) {
      send(res, 421, "unknown host\n", { "Content-Type": "text/plain" });
      return;
    }
    const url = new URL(req.url ?? "/", origin);
    const asset = url.pathname.startsWith("/static/")
      ? staticFile(url.pathname.slice(8))
      : undefined;
    if (asset) {
      send(res, 200, asset.body, { "Content-Type": asset.type });
      return;
    }
    const loginToken = url.searchParams.get("token");
    if (req.method === "GET" && loginToken !== null) {
      const cookie = auth.login(loginToken, req.socket.remoteAddress ?? "?");
      if (!cookie) {
        send(
          res,
          401,
          bare(
            "Sign-in link not valid",
            html`<p>This console was started with another token. Open the address it printed (<code>console: …?token=…</code>).</p>`,
          ).text,
        );
        return;
      }
      // The token leaves the address bar and the history at once (Jupyter does the same).
      url.searchParams.delete("token");
      send(res, 303, "", { Location: url.pathname + url.search, "Set-Cookie": cookie });
      return;
    }
    const session = auth.session(req);
    if (!session) {
      send(
        res,
        401,
        bare(
          "Sign in",
          html`<p>Open the address the console printed when it started (<code>console: http://…/?token=…</code>). It signs this browser in.</p>`,
        ).text,
      );
      return;
    }
    const method = req.method === "POST" ? "POST" : req.method === "GET" ? "GET" : undefined;
    if (!method) {
      send(res, 405, "method not allowed\n", { "Content-Type": "text/plain", Allow: "GET, POST" });
      return;
    }
    let form = new URLSearchParams();
    if (method === "POST") {
      const read = await readForm(req);
      if (read === "too-large") {
        send(
          res,
          413,
          bare(
            "Too large",
            html`<p>A form is at most ${MAX_FORM_BYTES / 1024} KB. Nothing was changed.</p>`,
          ).text,
        );
        return;
      }
      form = read;
      const csrf = form.get("_csrf") ?? header(req, "x-csrf-token");
      const refused = auth.refuseChange(req, session, csrf);
      if (refused) {
        logger.warn("console change refused", {
          path: url.pathname,
          reason: refused,
          from: req.socket.remoteAddress,
        });
        send(
          res,
          403,
          bare(
            "Refused",
            html`<p>Refused: ${refused}. Nothing was changed. Reload the page and try again.</p>`,
          ).text,
        );
        return;
      }
      if (url.pathname === "/logout") {
        auth.logout(req);
        send(
          res,
          200,
          bare("Signed out", html`<p>Signed out. Open the printed address to sign in again.</p>`)
            .text,
        );
        return;
      }
    }
    const creq: ConsoleRequest = {
      method,
      url,
      form,
      who: session.who,
      csrf: session.csrf,
      fragment: req.headers["hx-request"] === "true",
      flash: (text) => {
        session.flash = text;
      },
      takeFlash: () => {
        const f = session.flash;
        delete session.flash;
        return f;
      },
    };
    const path = decodeURIComponent(url.pathname);
    for (const route of ROUTES as ConsoleRoute[]) {
      if (route.method !== method) continue;
      const m = route.path.exec(path);
      if (!m) continue;
      const out = await route.handle(app, creq, m.slice(1));
      if (out.kind === "redirect") send(res, 303, "", { Location: out.to });
      else send(res, out.status ?? 200, out.body.text);
      return;
    }
    send(
      res,
      404,
      bare(
        "Not found",
        html`<p>No page at ${url.pathname}. <a href="/">Back to the console</a>.</p>`,
      ).text,
    );
  }

  return {
    loginUrl: `${origin}/?token=${auth.loginToken}`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};
