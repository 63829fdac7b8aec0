// Receive connector permission groups and the SMTP rights a session holds on a connector.
import type {
  Permission,
  PermissionGroup,
  ReceiveConnector,
} from "../records/receive-connector.ts";
import type { SmtpUser } from "../records/smtp-user.ts";

/** What the listener knows about a session when it asks for a decision. */
export interface SessionFacts {
  authenticated: boolean;
  user?: SmtpUser;
  tls: boolean;
  /**
   * The client presented a certificate that verified against the connector's tlsClientCaBundle and
   * names one of its partnerDomains (mutual TLS; partners.ts decides).
   */
  clientCertificateVerified?: boolean;
}

/**
 * The rights each permission group carries, as Exchange assigns them. AnonymousUsers may send
 * as an authoritative domain by default; taking that right away is Exchange's known anti-spoofing
 * step, and here it means leaving AnonymousUsers off a connector or not granting it back.
 */
export const GROUP_PERMISSIONS: Readonly<Record<PermissionGroup, readonly Permission[]>> = {
  AnonymousUsers: ["Submit", "AcceptAnySender", "AcceptAuthoritativeDomainSender"],
  Users: ["Submit", "AcceptAnyRecipient", "AcceptAuthoritativeDomainSender"],
  Partners: ["Submit", "AcceptAuthoritativeDomainSender"],
};

/**
 * The groups a session belongs to: AnonymousUsers until it authenticates, Users after; Partners in
 * addition when it presented a verified client certificate, so a certificate only ever adds rights.
 */
export function sessionGroups(session: SessionFacts): PermissionGroup[] {
  const groups: PermissionGroup[] = [session.authenticated ? "Users" : "AnonymousUsers"];
  if (session.clientCertificateVerified) groups.push("Partners");
  return groups;
}

/**
 * The session's rights on this connector: the defaults of each of its groups that the connector
 * lists in permissionGroups, plus every grant "Group:Permission" for a group the session is in.
 * A grant applies whether or not its group is listed, like Exchange's Add-ADPermission on
 * "NT AUTHORITY\ANONYMOUS LOGON", on which Exchange's documented anonymous relay connector
 * ("Allow anonymous relay on Exchange servers") relies.
 */
export function sessionPermissions(
  connector: ReceiveConnector,
  session: SessionFacts,
): ReadonlySet<Permission> {
  const groups = sessionGroups(session);
  const rights = new Set<Permission>();
  for (const group of groups) {
    if (!connector.permissionGroups.includes(group)) continue;
    for (const p of GROUP_PERMISSIONS[group]) rights.add(p);
  }
  for (const grant of connector.grantedPermissions) {
    const [group, permission] = grant.split(":") as [PermissionGroup, Permission];
    if (groups.includes(group)) rights.add(permission);
  }
  return rights;
}
