// Receive connector permissions and MAIL FROM / RCPT TO policy, encoding Exchange's documented relay scenarios.
import { describe, expect, test } from "vitest";
import {
  authAllowed,
  checkMailFrom,
  checkRcptTo,
  matchAcceptedDomain,
  type PolicyContext,
  type PolicyDecision,
  type SessionFacts,
  sessionPermissions,
  startTlsOffered,
} from "#core/receive/policy.ts";
import { AcceptedDomainSchema } from "#core/records/accepted-domain.ts";
import {
  type ReceiveConnector,
  type ReceiveConnectorInput,
  ReceiveConnectorSchema,
} from "#core/records/receive-connector.ts";
import { type SmtpUser, SmtpUserSchema } from "#core/records/smtp-user.ts";

const rc = (name: string, extra: Partial<ReceiveConnectorInput> = {}): ReceiveConnector =>
  ReceiveConnectorSchema.parse({
    kind: "ReceiveConnector",
    name,
    bindings: ["0.0.0.0:25"],
    ...extra,
  });

const accepted = (domain: string, domainType = "Authoritative") =>
  AcceptedDomainSchema.parse({ kind: "AcceptedDomain", domain, domainType });

const user = (name: string, allowedSenders: string[] = []): SmtpUser =>
  SmtpUserSchema.parse({
    kind: "SmtpUser",
    name,
    passwordHash: "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
    allowedSenders,
  });

/** Exchange's default and anonymous relay connectors, as this relay writes them. */
const defaultFrontend = rc("Default Frontend");
// The "two commands" of "Allow anonymous relay on Exchange servers":
//   Set-ReceiveConnector "Anon Relay" -PermissionGroups AnonymousUsers
//   Get-ReceiveConnector "Anon Relay" | Add-ADPermission -User "NT AUTHORITY\Anonymous Logon"
//     -ExtendedRights "Ms-Exch-SMTP-Accept-Any-Recipient"
const anonRelay = rc("Anon Relay", {
  remoteIpRanges: ["192.168.1.75"],
  permissionGroups: ["AnonymousUsers"],
  grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
});
const clientFrontend = rc("Client Frontend", {
  bindings: ["0.0.0.0:587"],
  authMechanisms: ["Tls", "BasicAuthRequireTls"],
  permissionGroups: ["Users"],
});
/** Anti-spoofing: anonymous mail accepted, but not as an authoritative domain (group default left out). */
const noSpoof = rc("Internet No Spoof", {
  permissionGroups: [],
  grantedPermissions: ["AnonymousUsers:Submit", "AnonymousUsers:AcceptAnySender"],
});

const domains = [
  accepted("contoso.com"),
  accepted("*.fabrikam.com", "InternalRelay"),
  accepted("sales.fabrikam.com", "ExternalRelay"),
];

const anon: SessionFacts = { authenticated: false, tls: false };
const anonTls: SessionFacts = { authenticated: false, tls: true };
const authed = (u: SmtpUser): SessionFacts => ({ authenticated: true, user: u, tls: true });

const ctx = (connector: ReceiveConnector, session: SessionFacts = anon): PolicyContext => ({
  connector,
  session,
  acceptedDomains: domains,
});

/** The decision as "ok" or "code enhanced", for compact tables. */
const outcome = (d: PolicyDecision) => (d.ok ? "ok" : `${d.reply.code} ${d.reply.enhanced}`);

describe("sessionPermissions", () => {
  test.each<[string, ReceiveConnector, SessionFacts, string[]]>([
    [
      "anonymous on Default Frontend: Exchange's AnonymousUsers rights",
      defaultFrontend,
      anon,
      ["Submit", "AcceptAnySender", "AcceptAuthoritativeDomainSender"],
    ],
    [
      "anonymous on Anon Relay: plus ms-Exch-SMTP-Accept-Any-Recipient",
      anonRelay,
      anon,
      ["Submit", "AcceptAnySender", "AcceptAuthoritativeDomainSender", "AcceptAnyRecipient"],
    ],
    ["anonymous on a Users-only connector: nothing", clientFrontend, anon, []],
    [
      "authenticated on Client Frontend: Users rights",
      clientFrontend,
      authed(user("app")),
      ["Submit", "AcceptAnyRecipient", "AcceptAuthoritativeDomainSender"],
    ],
    [
      "authenticated on an AnonymousUsers-only connector: not anonymous any more, so nothing",
      defaultFrontend,
      authed(user("app")),
      [],
    ],
    [
      "verified client certificate adds Partners when the connector lists it",
      rc("Partner", { permissionGroups: ["Partners"] }),
      { ...anonTls, clientCertificateVerified: true },
      ["Submit", "AcceptAuthoritativeDomainSender"],
    ],
    [
      "no certificate: not a partner",
      rc("Partner", { permissionGroups: ["Partners"] }),
      anonTls,
      [],
    ],
    [
      "grants apply without the group listed; group defaults are not implied",
      noSpoof,
      anon,
      ["Submit", "AcceptAnySender"],
    ],
    [
      "a grant to another group does not reach this session",
      rc("Users grant", { grantedPermissions: ["Users:AcceptAnyRecipient"] }),
      anon,
      ["Submit", "AcceptAnySender", "AcceptAuthoritativeDomainSender"],
    ],
  ])("%s", (_name, connector, session, expected) => {
    expect([...sessionPermissions(connector, session)].sort()).toEqual([...expected].sort());
  });
});

describe("matchAcceptedDomain", () => {
  test.each([
    ["contoso.com", "contoso.com"],
    ["CONTOSO.com", "contoso.com"],
    ["mail.contoso.com", undefined],
    // "*.fabrikam.com" covers fabrikam.com itself and every subdomain, as in Exchange.
    ["fabrikam.com", "*.fabrikam.com"],
    ["eu.hr.fabrikam.com", "*.fabrikam.com"],
    // The most specific entry wins.
    ["sales.fabrikam.com", "sales.fabrikam.com"],
    ["x.sales.fabrikam.com", "*.fabrikam.com"],
    ["notfabrikam.com", undefined],
  ])("%s → %s", (domain, expected) => {
    expect(matchAcceptedDomain(domain, domains)?.domain).toBe(expected);
  });

  test("*.sub beats *.parent", () => {
    const list = [accepted("*.fabrikam.com"), accepted("*.hr.fabrikam.com", "InternalRelay")];
    expect(matchAcceptedDomain("eu.hr.fabrikam.com", list)?.domain).toBe("*.hr.fabrikam.com");
  });
});

describe("checkMailFrom", () => {
  test.each<[string, PolicyContext, string, string]>([
    // Internal relay (Exchange's relay articles): Telnet to Default Frontend "from a valid internal address".
    [
      "anonymous, internal sender, Default Frontend",
      ctx(defaultFrontend),
      "alan@contoso.com",
      "ok",
    ],
    [
      "anonymous, external sender (inbound Internet mail)",
      ctx(defaultFrontend),
      "x@gmail.com",
      "ok",
    ],
    ["null sender (DSN) with Submit", ctx(defaultFrontend), "", "ok"],
    // Anonymous relay ("Allow anonymous relay on Exchange servers"): "allowed to send email from any email address".
    ["Anon Relay, made-up sender", ctx(anonRelay), "printer@nowhere.example", "ok"],
    [
      "no Submit: anonymous on Client Frontend",
      ctx(clientFrontend, anonTls),
      "a@contoso.com",
      "530 5.7.57",
    ],
    ["no Submit blocks the null sender too", ctx(clientFrontend, anonTls), "", "530 5.7.57"],
    ["unparseable sender", ctx(defaultFrontend), "bad@@contoso.com", "501 5.1.7"],
    ["percent hack sender", ctx(defaultFrontend), "a%b@contoso.com", "501 5.1.7"],
    // Anti-spoofing: without ms-Exch-SMTP-Accept-Authoritative-Domain-Sender, Exchange answers
    // "530 5.7.1 Client was not authenticated"; this relay uses 5.7.57 for the same rule.
    [
      "spoofing contoso.com without the authoritative right",
      ctx(noSpoof),
      "ceo@contoso.com",
      "530 5.7.57",
    ],
    ["InternalRelay domain is not authoritative", ctx(noSpoof), "a@hr.fabrikam.com", "ok"],
    ["external sender with AcceptAnySender", ctx(noSpoof), "a@gmail.com", "ok"],
    [
      "external sender without AcceptAnySender",
      ctx(rc("Partner", { permissionGroups: ["Partners"] }), {
        ...anonTls,
        clientCertificateVerified: true,
      }),
      "a@gmail.com",
      "550 5.7.1",
    ],
  ])("%s: %j → %s", (_name, c, from, expected) => {
    expect(outcome(checkMailFrom(c, from))).toBe(expected);
  });

  test("requireTls: MAIL before STARTTLS gets 530 5.7.0, even the null sender", () => {
    const tlsOnly = rc("Client TLS", { requireTls: true });
    expect(outcome(checkMailFrom(ctx(tlsOnly, anon), ""))).toBe("530 5.7.0");
    expect(outcome(checkMailFrom(ctx(tlsOnly, anonTls), "a@contoso.com"))).toBe("ok");
  });

  describe("authenticated user", () => {
    const noList = user("scanner");
    const listed = user("crm", ["crm@contoso.com", "*.fabrikam.com", "northwind.example"]);
    const any = user("gateway", ["*"]);
    test.each<[string, SmtpUser, string, string]>([
      // Empty allowedSenders: any address in an accepted domain, of any type.
      ["no list, accepted domain", noList, "scanner@contoso.com", "ok"],
      ["no list, another mailbox in an accepted domain", noList, "ceo@contoso.com", "ok"],
      ["no list, InternalRelay domain", noList, "a@hr.fabrikam.com", "ok"],
      ["no list, outside the accepted domains", noList, "scanner@gmail.com", "550 5.7.1"],
      ["no list, null sender", noList, "", "ok"],
      // Explicit list: exactly those senders, wherever they are.
      ["listed address", listed, "crm@contoso.com", "ok"],
      ["listed address, other case", listed, "CRM@Contoso.com", "ok"],
      ["other mailbox of a listed address's domain", listed, "ceo@contoso.com", "550 5.7.1"],
      ["*.fabrikam.com covers fabrikam.com", listed, "a@fabrikam.com", "ok"],
      ["*.fabrikam.com covers subdomains", listed, "a@eu.fabrikam.com", "ok"],
      ["listed external domain", listed, "bot@northwind.example", "ok"],
      ["subdomain of a listed plain domain", listed, "bot@x.northwind.example", "550 5.7.1"],
      ["* means any sender", any, "anyone@anywhere.example", "ok"],
    ])("%s: %j → %s", (_name, u, from, expected) => {
      expect(outcome(checkMailFrom(ctx(clientFrontend, authed(u)), from))).toBe(expected);
    });

    test("the log reason names the connector, the user and the rule", () => {
      const d = checkMailFrom(ctx(clientFrontend, authed(listed)), "ceo@contoso.com");
      expect(d).toMatchObject({
        ok: false,
        reply: { text: "Client does not have permissions to send as this sender" },
      });
      if (!d.ok) {
        expect(d.reason).toContain('ReceiveConnector "Client Frontend"');
        expect(d.reason).toContain('user "crm"');
        expect(d.reason).toContain("allowedSenders");
      }
    });
  });
});

describe("checkRcptTo", () => {
  test.each<[string, PolicyContext, string, string]>([
    // Exchange's relay articles: anonymous Telnet to an internal recipient is accepted with no configuration…
    ["anonymous to an accepted domain", ctx(defaultFrontend), "bob@contoso.com", "ok"],
    // …and to an external one gets "550 5.7.54, Unable to relay recipient in non-accepted domain".
    ["anonymous to an external domain", ctx(defaultFrontend), "bob@gmail.com", "550 5.7.54"],
    ["anonymous to an InternalRelay domain", ctx(defaultFrontend), "a@hr.fabrikam.com", "ok"],
    ["anonymous to an ExternalRelay domain", ctx(defaultFrontend), "a@sales.fabrikam.com", "ok"],
    // The anonymous relay connector: "to any external address".
    ["Anon Relay to an external domain", ctx(anonRelay), "bob@gmail.com", "ok"],
    // Client Frontend: authenticated SMTP "successfully received by the external recipient".
    [
      "authenticated to an external domain",
      ctx(clientFrontend, authed(user("app"))),
      "bob@gmail.com",
      "ok",
    ],
    [
      "Anon Relay still refuses a bang path",
      ctx(anonRelay),
      "gmail.com!bob@contoso.com",
      "501 5.1.3",
    ],
    [
      "authenticated still refuses a source route",
      ctx(clientFrontend, authed(user("app"))),
      "@contoso.com:bob@gmail.com",
      "501 5.1.3",
    ],
  ])("%s: %j → %s", (_name, c, to, expected) => {
    expect(outcome(checkRcptTo(c, to, 0))).toBe(expected);
  });

  test("maxRecipientsPerMessage: the 201st recipient gets 452 4.5.3", () => {
    expect(outcome(checkRcptTo(ctx(defaultFrontend), "a@contoso.com", 199))).toBe("ok");
    expect(outcome(checkRcptTo(ctx(defaultFrontend), "a@contoso.com", 200))).toBe("452 4.5.3");
    const small = rc("Small", { maxRecipientsPerMessage: 2 });
    expect(outcome(checkRcptTo(ctx(small), "a@contoso.com", 2))).toBe("452 4.5.3");
  });

  test("requireTls: RCPT before STARTTLS gets 530 5.7.0", () => {
    const tlsOnly = rc("Client TLS", { requireTls: true });
    expect(outcome(checkRcptTo(ctx(tlsOnly, anon), "a@contoso.com", 0))).toBe("530 5.7.0");
  });

  test("relay denial is logged with the connector and the missing right", () => {
    const d = checkRcptTo(ctx(defaultFrontend), "bob@gmail.com", 0);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.reply.text).toBe("SMTP; Unable to relay recipient in non-accepted domain");
      expect(d.reason).toMatch(
        /ReceiveConnector "Default Frontend" \(AnonymousUsers\).*gmail\.com.*AcceptAnyRecipient/,
      );
    }
  });
});

describe("authAllowed and startTlsOffered", () => {
  test.each<[string, Partial<ReceiveConnectorInput>, boolean, boolean]>([
    [
      "BasicAuthRequireTls under TLS",
      { authMechanisms: ["Tls", "BasicAuthRequireTls"] },
      true,
      true,
    ],
    [
      "BasicAuthRequireTls before STARTTLS",
      { authMechanisms: ["Tls", "BasicAuthRequireTls"] },
      false,
      false,
    ],
    // This relay's promise: AUTH only over TLS, so BasicAuth behaves like BasicAuthRequireTls.
    ["BasicAuth under TLS", { authMechanisms: ["Tls", "BasicAuth"] }, true, true],
    ["BasicAuth before STARTTLS", { authMechanisms: ["Tls", "BasicAuth"] }, false, false],
    ["Tls only", { authMechanisms: ["Tls"] }, true, false],
    ["None", { authMechanisms: ["None"] }, true, false],
  ])("AUTH with %s (tls=%s)", (_name, extra, tls, expected) => {
    expect(authAllowed(rc("C", extra), tls)).toBe(expected);
  });

  test.each<[string, Partial<ReceiveConnectorInput>, boolean]>([
    ["Tls listed", { authMechanisms: ["Tls", "BasicAuthRequireTls"] }, true],
    ["Tls not listed", { authMechanisms: ["BasicAuthRequireTls"] }, false],
    [
      "implicit TLS port (465)",
      { authMechanisms: ["Tls", "BasicAuthRequireTls"], implicitTls: true },
      false,
    ],
  ])("STARTTLS when %s", (_name, extra, expected) => {
    expect(startTlsOffered(rc("C", extra))).toBe(expected);
  });
});
