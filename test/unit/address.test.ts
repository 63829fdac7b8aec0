// Envelope address parsing, and hostile address forms driven through the RCPT TO relay decision.
import { describe, expect, test } from "vitest";
import { parseMailbox } from "#core/address.ts";
import { checkRcptTo, type PolicyContext } from "#core/receive/policy.ts";
import { AcceptedDomainSchema } from "#core/records/accepted-domain.ts";
import { ReceiveConnectorSchema } from "#core/records/receive-connector.ts";

describe("parseMailbox accepts RFC 5321 mailboxes", () => {
  test.each([
    ["user@contoso.com", "user", "contoso.com"],
    // RFC 5321 §2.4: the local part keeps its case; domains compare without case.
    ["User.Name+tag@Contoso.COM", "User.Name+tag", "contoso.com"],
    ["o'brien@contoso.com", "o'brien", "contoso.com"],
    [
      "a=b/c#d$e&f*g?h^i_j`k{l|m}n~o-p@mail.contoso.com",
      "a=b/c#d$e&f*g?h^i_j`k{l|m}n~o-p",
      "mail.contoso.com",
    ],
    // §4.1.2: a quoted string that is a valid dot-atom means the same mailbox unquoted.
    ['"john.doe"@contoso.com', "john.doe", "contoso.com"],
    // Not expressible as a dot-atom, so the quotes stay for the next hop.
    ['"john..doe"@contoso.com', '"john..doe"', "contoso.com"],
    // smtp-server decodes punycode to Unicode before we see it; we hold the A-label again.
    ["user@bücher.example", "user", "xn--bcher-kva.example"],
    ["user@xn--bcher-kva.example", "user", "xn--bcher-kva.example"],
    ["postmaster@localhost", "postmaster", "localhost"],
    // RFC 6531 §3.3: UTF-8 local parts (NFC), with IDN domains held as A-labels.
    ["jörg@contoso.com", "jörg", "contoso.com"],
    ["用户@例子.测试", "用户", "xn--fsqu00a.xn--0zwm56d"],
    ["почта@почта.рф", "почта", "xn--80a1acny.xn--p1ai"],
    [`${"a".repeat(64)}@contoso.com`, "a".repeat(64), "contoso.com"],
  ])("%j", (text, localPart, domain) => {
    const r = parseMailbox(text);
    expect(r).toEqual({
      ok: true,
      mailbox: { localPart, domain, address: `${localPart}@${domain}` },
    });
  });

  test.each([
    ["@a.example,@b.example:user@c.example", "source route"],
    ["user%evil.com@contoso.com", "percent hack"],
    ["evil.com!user@contoso.com", "bang path"],
    ["user@[10.0.0.1]", "IP literal"],
    ["user@contoso.com.", "trailing dot"],
    ["user@contoso.com@evil.com", "more than one @"],
    ["", "empty address"],
    ["jo\u0308rg@contoso.com", "NFC"],
    ["user\u200d@contoso.com", "invisible"],
    ["user\uff05evil.com@contoso.com", "folds to one that routes elsewhere"],
    ["user@c\u043entoso.com", "mixes Latin"],
    ["user@contoso\u3002com", "invalid internationalised domain"],
  ])("%j is refused with a reason naming the trick", (text, reason) => {
    const r = parseMailbox(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

const contoso = [AcceptedDomainSchema.parse({ kind: "AcceptedDomain", domain: "contoso.com" })];

/** Exchange's "Default Frontend": port 25, anywhere, anonymous users, accepted domains only. */
const defaultFrontend = ReceiveConnectorSchema.parse({
  kind: "ReceiveConnector",
  name: "Default Frontend",
  bindings: ["0.0.0.0:25"],
});
/** Exchange's documented anonymous relay connector ("Allow anonymous relay on Exchange servers"): AnonymousUsers plus ms-Exch-SMTP-Accept-Any-Recipient for anonymous logon. */
const anonRelay = ReceiveConnectorSchema.parse({
  kind: "ReceiveConnector",
  name: "Anon Relay",
  bindings: ["0.0.0.0:25"],
  remoteIpRanges: ["192.168.1.75"],
  grantedPermissions: ["AnonymousUsers:AcceptAnyRecipient"],
});

const anonymous = { authenticated: false, tls: false };
const ctx = (connector = defaultFrontend): PolicyContext => ({
  connector,
  session: anonymous,
  acceptedDomains: contoso,
});

const longLabel = "x".repeat(63);
/** Routing tricks: each is refused as syntax (501 5.1.3) even on a connector that may relay. */
const SYNTAX_TRICKS: Array<[string, string]> = [
  ["@relay.evil.com,@evil2.com:user@contoso.com", "source route (RFC 5321 Appendix C)"],
  ["@contoso.com:user@evil.com", "source route whose final hop is outside"],
  ["user%evil.com@contoso.com", "percent hack"],
  ["user%evil.com", "percent hack without a domain"],
  ["evil.com!user@contoso.com", "bang path (UUCP)"],
  ['"user@evil.com"@contoso.com', "quoted local part hiding an @"],
  ['"user%evil.com"@contoso.com', "quoted percent hack"],
  ['"evil.com!user"@contoso.com', "quoted bang path"],
  ["user@contoso.com@evil.com", "two @, second one outside"],
  ["user@@contoso.com", "double @"],
  ["user\\@evil.com@contoso.com", "backslash-escaped @"],
  ["us\\er@contoso.com", "backslash escape"],
  ["user@[1.2.3.4]", "IPv4 address literal"],
  ["user@[IPv6:2001:db8::1]", "IPv6 address literal"],
  ["user@127.0.0.1", "bare IPv4 as a domain"],
  ["user@2130706433", "IPv4 as a decimal number"],
  ["user@contoso.com.", "trailing dot"],
  ["@contoso.com", "empty local part"],
  ["user@", "empty domain"],
  ["user", "no domain"],
  ["user@contoso.com\r\nRCPT TO:<victim@evil.com>", "CRLF command injection"],
  ["user\u0000@contoso.com", "NUL"],
  ["us er@contoso.com", "space"],
  ["user@contoso.com\t", "tab"],
  [`${"a".repeat(65)}@contoso.com`, "local part over 64"],
  [`user@${`${longLabel}.`.repeat(4)}contoso.com`, "domain over 253"],
  [`${"a".repeat(64)}@${`${longLabel}.`.repeat(3)}${"y".repeat(8)}.contoso.com`, "path over 254"],
  ["user(comment)@contoso.com", "comment in local part"],
  ["user@(comment)contoso.com", "comment in domain"],
  ["<user@evil.com>", "nested angle brackets"],
  ["<user@evil.com>@contoso.com", "bracketed path as local part"],
  ["user\uff20evil.com@contoso.com", "full-width @ in the local part"],
  ["user\ufe6bevil.com@contoso.com", "small commercial @ (NFKC folds it to @)"],
  ["user\uff05evil.com@contoso.com", "full-width percent hack"],
  ["evil.com\uff01user@contoso.com", "full-width bang path"],
  ["user\u202e@contoso.com", "right-to-left override in the local part"],
  ["user@contoso\u3002com", "ideographic full stop for the dot"],
  ["user@contoso\uff0ecom", "full-width full stop for the dot"],
  ["user@contoso\uff61com", "half-width ideographic full stop for the dot"],
  ["user@\u0441ontoso.com", "mixed script: Cyrillic с among Latin letters"],
  ["user@cont\u03bfso.com", "mixed script: Greek ο among Latin letters"],
  ["user@\uff43\uff4f\uff4e\uff54\uff4f\uff53\uff4f.com", "full-width letters folding to contoso"],
  ["user@contoso.com\u200b", "zero-width space dropped by IDNA mapping"],
  ["user@con\u00adtoso.com", "soft hyphen dropped by IDNA mapping"],
  [".user@contoso.com", "leading dot"],
  ["user.@contoso.com", "trailing dot in local part"],
  ["us..er@contoso.com", "double dot in local part"],
  ["user@contoso..com", "empty label"],
  ["user@-contoso.com", "label starting with a hyphen"],
  ["user@contoso.com:25", "port after the domain"],
  ["user@contoso.com,evil.com", "list of domains"],
  ["user@evil.com%contoso.com", "percent in the domain"],
  ['""@contoso.com', "empty quoted local part"],
  ['"user@contoso.com', "unbalanced quote"],
];

/** Well-formed, but not in the accepted domain: an anonymous client gets 550 5.7.54. */
const NOT_ACCEPTED: Array<[string, string]> = [
  ["user@evil.com", "plain external domain (the Telnet test of Exchange's relay articles)"],
  ["user@contoso.com.evil.com", "accepted domain as a prefix"],
  ["user@evilcontoso.com", "accepted domain as a suffix without a dot"],
  ["user@sub.contoso.com", "subdomain when only contoso.com is accepted"],
  ["user@localhost", "single-label name"],
  ["user@\u0441\u043e\u0441\u043e.com", "all-Cyrillic look-alike (xn--...): a different domain"],
  ["user@xn--ontoso-3fg.com", "the A-label of a Cyrillic look-alike of contoso.com"],
  ["jörg@fabrikam.com", "UTF-8 local part outside the accepted domains"],
];

describe("UTF-8 recipients in the accepted domain", () => {
  test.each(["jörg@contoso.com", "用户@contoso.com"])("anonymous %j is accepted", (rcpt) => {
    expect(checkRcptTo(ctx(), rcpt, 0)).toEqual({ ok: true });
  });
});

describe("hostile recipients with contoso.com the only accepted domain", () => {
  test.each(SYNTAX_TRICKS)("anonymous %j (%s) gets 501 5.1.3", (rcpt) => {
    const d = checkRcptTo(ctx(), rcpt, 0);
    expect(d.ok).toBe(false);
    if (!d.ok) expect([d.reply.code, d.reply.enhanced]).toEqual([501, "5.1.3"]);
  });

  test.each(SYNTAX_TRICKS)("relay-permitted %j (%s) still gets 501 5.1.3", (rcpt) => {
    const d = checkRcptTo(ctx(anonRelay), rcpt, 0);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reply.code).toBe(501);
  });

  test.each(NOT_ACCEPTED)("anonymous %j (%s) gets 550 5.7.54 Unable to relay", (rcpt) => {
    const d = checkRcptTo(ctx(), rcpt, 0);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect([d.reply.code, d.reply.enhanced]).toEqual([550, "5.7.54"]);
      expect(d.reason).toContain('ReceiveConnector "Default Frontend"');
    }
  });

  test("the log reason names the trick; the client sees only the standard text", () => {
    const d = checkRcptTo(ctx(), "user%evil.com@contoso.com", 0);
    expect(d).toMatchObject({
      ok: false,
      reply: { code: 501, enhanced: "5.1.3", text: "Invalid address" },
      reason: expect.stringContaining("percent hack"),
    });
  });
});
