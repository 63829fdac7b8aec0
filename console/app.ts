// What every console page gets: the CLI's back end, the change log, and the request as a page sees it.
import type { Logger } from "@aws-lambda-powertools/logger";
import type { CliContext } from "#cli/context.ts";
import type { Out } from "#cli/output.ts";
import type { Html } from "./html.ts";
import { page } from "./layout.ts";

export interface ConsoleRequest {
  method: "GET" | "POST";
  url: URL;
  /** The form of a POST (application/x-www-form-urlencoded); empty for GET. */
  form: URLSearchParams;
  /** Who is signed in, for the change log. */
  who: string;
  csrf: string;
  /** Asked by htmx for a part of a page (HX-Request): answer the fragment alone. */
  fragment: boolean;
  /** Set by a page before a redirect; shown once on the next page. */
  flash(text: string): void;
  takeFlash(): string | undefined;
}

export type ConsoleReply =
  | { kind: "page"; status?: number; body: Html }
  | { kind: "redirect"; to: string };

export interface ConsoleApp {
  ctx: CliContext;
  runtime: string;
  /** Logs one change: who, what, and the values before and after with secrets redacted. */
  audit(
    req: ConsoleRequest,
    action: string,
    subject: string,
    before: unknown,
    after: unknown,
  ): void;
}

export interface ConsoleRoute {
  method: "GET" | "POST";
  /** Matched against the decoded path; groups are the handler's parameters. */
  path: RegExp;
  handle(app: ConsoleApp, req: ConsoleRequest, params: string[]): Promise<ConsoleReply>;
}

/** A whole page in the frame, or just `fragment` when htmx asked for it. */
export function reply(
  app: ConsoleApp,
  req: ConsoleRequest,
  title: string,
  body: Html,
  options: { status?: number; fragment?: Html } = {},
): ConsoleReply {
  const status = options.status ?? 200;
  if (req.fragment && options.fragment) return { kind: "page", status, body: options.fragment };
  const notice = req.takeFlash();
  return {
    kind: "page",
    status,
    body: page(title, body, {
      current: req.url.pathname,
      csrf: req.csrf,
      runtime: app.runtime,
      ...(notice ? { notice } : {}),
    }),
  };
}

export const redirect = (to: string): ConsoleReply => ({ kind: "redirect", to });

/** Field names whose values are secrets: never logged, never shown. */
const SECRET_FIELD = /^(password|passwordHash|privateKey|privateKeyPem|secret|secretValue)$/i;

/** A record with its secret fields replaced, for the change log. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      SECRET_FIELD.test(k) ? "[redacted]" : redact(v),
    ]),
  );
}

export function auditOn(logger: Logger): ConsoleApp["audit"] {
  return (req, action, subject, before, after) =>
    logger.info("console change", {
      who: req.who,
      action,
      subject,
      // Absent for a record created (before) or removed (after).
      ...(before !== undefined ? { before: redact(before) } : {}),
      ...(after !== undefined ? { after: redact(after) } : {}),
    });
}

/** Runs a CLI verb with `--json` and returns what it printed, parsed: the console reuses the verb itself. */
export async function cliJson<T>(run: (out: Out) => Promise<unknown>): Promise<T> {
  let text = "";
  const out: Out = {
    json: true,
    write: (t) => {
      text += t;
    },
  };
  await run(out);
  return JSON.parse(text) as T;
}
