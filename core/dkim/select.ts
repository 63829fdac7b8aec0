// Which DKIM signing config signs a message: the From header's domain, or its nearest parent with a config.
import type { DkimSigningConfig } from "../records/dkim-signing-config.ts";

/*
 * The header fields signed: those DMARC and mailbox providers expect covered (RFC 6376 §5.4.1's
 * list, the MIME fields, threading fields and the list fields RFC 8058 one-click unsubscribe
 * needs signed). Fields a message lacks are left out of h= by the signer.
 */
export const DKIM_SIGNED_HEADERS = [
  "From",
  "Sender",
  "Reply-To",
  "Subject",
  "Date",
  "Message-ID",
  "To",
  "Cc",
  "MIME-Version",
  "Content-Type",
  "Content-Transfer-Encoding",
  "Content-ID",
  "Content-Description",
  "Resent-Date",
  "Resent-From",
  "Resent-Sender",
  "Resent-To",
  "Resent-Cc",
  "Resent-Message-ID",
  "In-Reply-To",
  "References",
  "List-Id",
  "List-Help",
  "List-Unsubscribe",
  "List-Unsubscribe-Post",
  "List-Subscribe",
  "List-Post",
  "List-Owner",
  "List-Archive",
  "Feedback-ID",
] as const;

/** The domain of the first address in a From header value (`"Name" <a@b>`, `a@b`), lower case. */
export function fromDomain(fromValue: string | undefined): string | undefined {
  if (!fromValue) return undefined;
  const angle = /<([^<>]*)>/.exec(fromValue)?.[1];
  const address = (angle ?? fromValue.split(",")[0] ?? "").trim();
  const at = address.lastIndexOf("@");
  if (at < 0) return undefined;
  const domain = address
    .slice(at + 1)
    .replace(/[>\s].*$/, "")
    .replace(/\.$/, "")
    .toLowerCase();
  return domain || undefined;
}

/**
 * The enabled config for `domain`, else for its nearest parent: a d= of a parent domain passes
 * DMARC's relaxed alignment (RFC 7489 §3.1.1), so news.contoso.com is signed as contoso.com.
 */
export function signingConfigFor(
  domain: string | undefined,
  configs: DkimSigningConfig[],
): DkimSigningConfig | undefined {
  if (!domain) return undefined;
  const byDomain = new Map(configs.filter((c) => c.enabled).map((c) => [c.domain, c]));
  const labels = domain.toLowerCase().split(".");
  for (let i = 0; i < labels.length - 1; i++) {
    const hit = byDomain.get(labels.slice(i).join("."));
    if (hit) return hit;
  }
  return undefined;
}
