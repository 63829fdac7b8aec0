// Which remote replies mean "slow down" (a throttle of the whole next hop) and which failures count against a host's circuit.
import type { RecipientOutcome } from "../message.ts";
import type { SmtpReply } from "../replies.ts";

/**
 * Built-in throttle replies, each quoting the provider that sends it. The basic code must be 421
 * or 451 (a 5xx is never a throttle: it ends the recipient).
 */
export const BUILT_IN_THROTTLES: readonly {
  code?: number;
  enhanced?: string;
  text?: RegExp;
  why: string;
}[] = [
  { enhanced: "4.7.28", why: "Gmail: unusual rate of unsolicited mail from your IP or domain" },
  { enhanced: "4.7.500", why: "Microsoft 365 / Outlook.com: server busy, try again later" },
  {
    text: /\bTSS04\b/,
    why: "Yahoo: messages from your IP temporarily deferred (421 4.7.0 [TSS04])",
  },
  {
    enhanced: "4.7.",
    text: /\b(rate|too many|throttl|slow down|sending too fast)/i,
    why: "RFC 3463 X.7.x security/policy with rate wording (Postfix, Exim, SES)",
  },
  {
    code: 421,
    enhanced: "4.7.",
    text: /\btry (again )?later\b/i,
    why: '421 closes the session (RFC 5321 §3.8): a policy "try later" there is about the sender, not one message',
  },
];

/**
 * Greylisting (RFC 6647) is per message and answers "451 4.7.1 … try again later": the retry of
 * that one message is the cure, so it never slows the whole next hop down.
 */
const GREYLIST = /gr[ea]y ?list/i;

const line = (r: SmtpReply) => `${r.code} ${r.enhanced} ${r.text}`;

/** True when a 421/451 reply asks the sender to slow down: a built-in form or one of the admin's patterns. */
export function isThrottleReply(reply: SmtpReply, patterns: readonly string[] = []): boolean {
  if (reply.code !== 421 && reply.code !== 451) return false;
  const text = line(reply);
  if (patterns.some((p) => new RegExp(p, "i").test(text))) return true;
  if (GREYLIST.test(reply.text)) return false;
  return BUILT_IN_THROTTLES.some(
    (t) =>
      (t.code === undefined || t.code === reply.code) &&
      (t.enhanced === undefined ||
        (t.enhanced.endsWith(".")
          ? reply.enhanced.startsWith(t.enhanced)
          : reply.enhanced === t.enhanced)) &&
      (t.text === undefined || t.text.test(reply.text)),
  );
}

/** The first throttle reply among an attempt's outcomes, as "host: 421 4.7.28 text". */
export function throttleOf(
  outcomes: readonly RecipientOutcome[],
  patterns: readonly string[],
): string | undefined {
  const o = outcomes.find((x) => x.status === "transient" && isThrottleReply(x.reply, patterns));
  return o ? `${o.remoteHost ? `${o.remoteHost}: ` : ""}${line(o.reply)}` : undefined;
}

/**
 * A failure that says the host is not there: no connection, or no answer in time (the texts of
 * networkFailure "connect" and "timeout"). Any SMTP reply, even 421, proves the host is up.
 */
export function isHostDown(outcomes: readonly RecipientOutcome[]): boolean {
  return (
    outcomes.length > 0 &&
    outcomes.every(
      (o) =>
        o.status === "transient" &&
        o.reply.code === 451 &&
        ((o.reply.enhanced === "4.4.1" && o.reply.text === "Unable to connect") ||
          (o.reply.enhanced === "4.4.2" && o.reply.text === "Connection timed out")),
    )
  );
}
