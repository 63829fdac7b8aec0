// Classifying remote SMTP replies and delivery failures as delivered, transient or permanent (policy as data).
import { REMOTE_TRANSIENT, type SmtpReply } from "./replies.ts";

export type ReplyClass = "delivered" | "transient" | "permanent";

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)/;

/** X.0.0 for the reply's class; a reply outside 2xx/4xx/5xx where a final one was due is a protocol error (RFC 3463 X.5.0). */
function defaultEnhanced(code: number): string {
  const c = Math.floor(code / 100);
  return c === 2 || c === 4 || c === 5 ? `${c}.0.0` : "4.5.0";
}

/**
 * A remote reply as an SmtpReply. `text` may be the bare text ("5.1.1 User unknown") or the whole
 * reply as clients such as nodemailer report it, one line per reply line with the code prefixes
 * ("550-5.1.1 …\n550 5.1.1 …"); the lines are joined into one. The enhanced code (RFC 2034) is taken
 * from the first line and dropped from the others, where servers repeat it. RFC 2034 §4 says "all
 * status codes returned by the server must agree with the primary response code"; one that does
 * not is left in the text and the class default X.0.0 is used, so the basic code — what RFC 5321
 * §4.2.1 tells clients to act on — stays the single truth.
 */
export function parseReply(code: number, text: string): SmtpReply {
  const prefix = new RegExp(`^${code}(?:[ -]|$)`);
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.replace(prefix, "").trim())
    .filter((l) => l.length > 0);
  const m = ENHANCED.exec(lines[0] ?? "");
  const agrees = m !== null && Number(m[1]) === Math.floor(code / 100);
  const enhanced = agrees ? m[0] : defaultEnhanced(code);
  const body = agrees
    ? lines.map((l) =>
        l.startsWith(`${enhanced} `) || l === enhanced ? l.slice(enhanced.length) : l,
      )
    : lines;
  return { code, enhanced, text: body.join(" ").replace(/\s+/g, " ").trim() };
}

/** One classification rule; the first rule whose fields all match decides. */
export interface ReplyRule {
  code?: number;
  /** First digit of the basic code. */
  codeClass?: 2 | 4 | 5;
  enhanced?: string;
  text?: RegExp;
  outcome: ReplyClass;
  why: string;
}

/**
 * The policy, in order. The basic code decides (RFC 5321 §4.2.1), with these documented exceptions
 * and decisions; a reply no rule covers is transient (maddy's rule: an unknown error is temporary,
 * retrying costs less than losing mail).
 */
export const REPLY_RULES: readonly ReplyRule[] = [
  {
    code: 421,
    outcome: "transient",
    why: "RFC 5321 §3.8: the server is closing the channel; it says nothing about the recipient",
  },
  {
    code: 552,
    enhanced: "5.5.3",
    outcome: "transient",
    why: "RFC 5321 §4.5.3.1.10: 552 for too many recipients is really 452; clients SHOULD treat it as temporary",
  },
  {
    code: 552,
    text: /too many recipients/i,
    outcome: "transient",
    why: "RFC 5321 §4.5.3.1.10, for servers that say so without an enhanced code",
  },
  {
    code: 552,
    enhanced: "5.2.2",
    outcome: "permanent",
    why: "mailbox full: RFC 3463 X.2.2 allows either class, so the server's 5xx is honoured; servers that want a retry send 452 4.2.2",
  },
  { codeClass: 2, outcome: "delivered", why: "RFC 5321 §4.2.1: positive completion" },
  { codeClass: 4, outcome: "transient", why: "RFC 5321 §4.2.1: transient negative completion" },
  {
    codeClass: 5,
    outcome: "permanent",
    why: "RFC 5321 §4.2.1: permanent negative completion; a 5xx carrying a 4.x.x enhanced code is still permanent, as the basic code governs (RFC 2034 §4)",
  },
];

const matches = (rule: ReplyRule, r: SmtpReply): boolean =>
  (rule.code === undefined || rule.code === r.code) &&
  (rule.codeClass === undefined || rule.codeClass === Math.floor(r.code / 100)) &&
  (rule.enhanced === undefined || rule.enhanced === r.enhanced) &&
  (rule.text === undefined || rule.text.test(r.text));

/** The first matching rule of REPLY_RULES, or undefined when none matches (treated as transient). */
export function replyRuleFor(reply: SmtpReply): ReplyRule | undefined {
  return REPLY_RULES.find((rule) => matches(rule, reply));
}

export function classifyReply(reply: SmtpReply): ReplyClass {
  return replyRuleFor(reply)?.outcome ?? "transient";
}

export type NetworkFailureKind = "connect" | "timeout" | "tls" | "dns" | "protocol";

/**
 * What went wrong, twice: `reply` is what outside senders may see (DSN diagnostics), standard text
 * only; `detail` is for the admin (LastError, tracking, logs) and may name hosts, addresses,
 * secrets and settings (maddy and chasquid keep the same split).
 */
export interface Failure {
  reply: SmtpReply;
  detail?: string;
}

/** A transient reply standing in for a failure that produced no SMTP reply; the cause goes in `detail`. */
export function networkFailure(kind: NetworkFailureKind, detail: string): Failure {
  const reply = REMOTE_TRANSIENT[kind];
  const d = detail.replace(/\s+/g, " ").trim();
  return d ? { reply, detail: `${reply.text}: ${d}` } : { reply };
}

const LAST_ERROR_MAX = 1000;

/**
 * What Exchange shows as LastError: "mx1.contoso.com: 451 4.7.1 Greylisted, try later". The
 * admin's `detail`, when there is one, stands in for the reply's standard text.
 */
export function formatLastError(
  remoteHost: string | undefined,
  reply: SmtpReply,
  detail?: string,
): string {
  const text = `${reply.code} ${reply.enhanced} ${detail ?? reply.text}`
    .replace(/\s+/g, " ")
    .trim();
  const line = remoteHost ? `${remoteHost}: ${text}` : text;
  return line.length > LAST_ERROR_MAX ? `${line.slice(0, LAST_ERROR_MAX - 1)}…` : line;
}
