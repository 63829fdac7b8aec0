// MAIL FROM / RCPT TO policy of a receive connector: TLS, submit, send-as and relay rules with their replies.
import { parseMailbox } from "../address.ts";
import type { AcceptedDomain } from "../records/accepted-domain.ts";
import type { ReceiveConnector } from "../records/receive-connector.ts";
import { REPLIES, type SmtpReply } from "../replies.ts";
import { matchAcceptedDomain, senderAllowed } from "./domains.ts";
import { type SessionFacts, sessionGroups, sessionPermissions } from "./permissions.ts";

export { matchAcceptedDomain } from "./domains.ts";
export { GROUP_PERMISSIONS, type SessionFacts, sessionPermissions } from "./permissions.ts";

export interface PolicyContext {
  connector: ReceiveConnector;
  session: SessionFacts;
  acceptedDomains: AcceptedDomain[];
}

/**
 * `reason` is for the protocol log (connector, who and rule), `rule` for the refusal log line;
 * the client sees only `reply`.
 */
export type PolicyDecision =
  | { ok: true }
  | { ok: false; reply: SmtpReply; reason: string; rule: string };

const OK: PolicyDecision = { ok: true };

function deny(ctx: PolicyContext, reply: SmtpReply, rule: string): PolicyDecision {
  const who = ctx.session.user
    ? `user "${ctx.session.user.name}"`
    : sessionGroups(ctx.session).join("+");
  const reason = `ReceiveConnector "${ctx.connector.name}" (${who}): ${rule}`;
  return { ok: false, reply, reason, rule };
}

/** Exchange's RequireTLS on a receive connector: no envelope command before STARTTLS. */
function tlsRequired(ctx: PolicyContext): boolean {
  return ctx.connector.requireTls && !ctx.session.tls;
}

/**
 * MAIL FROM. In order: RequireTLS (530 5.7.0); the Submit right (530 5.7.57); the null sender is
 * fine for anyone who may submit (DSNs, RFC 5321 §4.5.5); syntax (501 5.1.7); an authenticated
 * user's allowedSenders — or, when empty, any address in an accepted domain (550 5.7.1); spoofing
 * an Authoritative domain without AcceptAuthoritativeDomainSender (530 5.7.57, Exchange's reply
 * once that right is removed from anonymous users); a sender outside the accepted domains without
 * AcceptAnySender (550 5.7.1). A user's explicit allowedSenders entry is their send-as right, as
 * Exchange's Send-As permission is, so it stands in for AcceptAnySender.
 */
export function checkMailFrom(ctx: PolicyContext, mailFrom: string): PolicyDecision {
  if (tlsRequired(ctx)) return deny(ctx, REPLIES.startTlsFirst, "requireTls: MAIL before STARTTLS");
  const rights = sessionPermissions(ctx.connector, ctx.session);
  if (!rights.has("Submit"))
    return deny(ctx, REPLIES.notAuthenticated, "no Submit permission on this connector");
  if (mailFrom === "") return OK;
  const parsed = parseMailbox(mailFrom);
  if (!parsed.ok)
    return deny(
      ctx,
      REPLIES.badSenderSyntax,
      `sender ${JSON.stringify(mailFrom)}: ${parsed.reason}`,
    );
  const sender = parsed.mailbox;
  const accepted = matchAcceptedDomain(sender.domain, ctx.acceptedDomains);
  const user = ctx.session.authenticated ? ctx.session.user : undefined;
  let sendAsGranted = false;
  if (user) {
    if (user.allowedSenders.length > 0) {
      if (!senderAllowed(sender, user.allowedSenders))
        return deny(ctx, REPLIES.sendAsDenied, `sender ${sender.address} not in allowedSenders`);
      sendAsGranted = true;
    } else if (!accepted) {
      return deny(
        ctx,
        REPLIES.sendAsDenied,
        `sender ${sender.address} not in an accepted domain and allowedSenders is empty`,
      );
    }
  }
  if (accepted?.domainType === "Authoritative" && !rights.has("AcceptAuthoritativeDomainSender"))
    return deny(
      ctx,
      REPLIES.notAuthenticated,
      `sender ${sender.address} is in authoritative domain ${accepted.domain} without AcceptAuthoritativeDomainSender`,
    );
  if (!accepted && !sendAsGranted && !rights.has("AcceptAnySender"))
    return deny(
      ctx,
      REPLIES.sendAsDenied,
      `sender ${sender.address} not in an accepted domain without AcceptAnySender`,
    );
  return OK;
}

/**
 * RCPT TO. In order: RequireTLS (530 5.7.0); maxRecipientsPerMessage (452 4.5.3, so the client
 * sends the rest in another transaction, RFC 5321 §4.5.3.1.10); syntax, including every routing
 * trick parseMailbox refuses (501 5.1.3) — also for sessions that may relay; an accepted domain of
 * any type; AcceptAnyRecipient (relay); otherwise 550 5.7.54, Exchange's "Unable to relay
 * recipient in non-accepted domain".
 */
export function checkRcptTo(
  ctx: PolicyContext,
  rcptTo: string,
  recipientsSoFar: number,
): PolicyDecision {
  if (tlsRequired(ctx)) return deny(ctx, REPLIES.startTlsFirst, "requireTls: RCPT before STARTTLS");
  if (recipientsSoFar >= ctx.connector.maxRecipientsPerMessage)
    return deny(
      ctx,
      REPLIES.tooManyRecipients,
      `maxRecipientsPerMessage ${ctx.connector.maxRecipientsPerMessage} reached`,
    );
  const parsed = parseMailbox(rcptTo);
  if (!parsed.ok)
    return deny(
      ctx,
      REPLIES.badRecipientSyntax,
      `recipient ${JSON.stringify(rcptTo)}: ${parsed.reason}`,
    );
  const domain = parsed.mailbox.domain;
  if (matchAcceptedDomain(domain, ctx.acceptedDomains)) return OK;
  if (sessionPermissions(ctx.connector, ctx.session).has("AcceptAnyRecipient")) return OK;
  return deny(
    ctx,
    REPLIES.relayDenied,
    `recipient domain ${domain} is not accepted and the session lacks AcceptAnyRecipient`,
  );
}

/**
 * Whether AUTH is offered. This relay offers AUTH only under TLS whatever the mechanism says, so
 * BasicAuth and BasicAuthRequireTls behave the same: a password never crosses the wire in clear.
 */
export function authAllowed(connector: ReceiveConnector, tls: boolean): boolean {
  const basic = connector.authMechanisms.some(
    (m) => m === "BasicAuth" || m === "BasicAuthRequireTls",
  );
  return basic && tls;
}

/** STARTTLS is offered when the connector lists Tls; on an implicit-TLS port it would be meaningless. */
export function startTlsOffered(connector: ReceiveConnector): boolean {
  return connector.authMechanisms.includes("Tls") && !connector.implicitTls;
}
