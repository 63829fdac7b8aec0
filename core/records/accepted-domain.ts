// Schema of an accepted domain record: the domains this organisation receives mail for.
import { z } from "zod";
import { DOMAIN_PATTERN_FIX, domainPattern, recordMeta } from "./common.ts";

export const ACCEPTED_DOMAIN_TYPES = ["Authoritative", "InternalRelay", "ExternalRelay"] as const;
export type AcceptedDomainType = (typeof ACCEPTED_DOMAIN_TYPES)[number];

export const AcceptedDomainSchema = z.strictObject({
  kind: z.literal("AcceptedDomain"),
  /** `contoso.com`, or `*.contoso.com` for contoso.com and all its subdomains. */
  domain: domainPattern.refine((d) => d !== "*", {
    message: `"*" would accept every domain (an open relay); ${DOMAIN_PATTERN_FIX}`,
  }),
  domainType: z.enum(ACCEPTED_DOMAIN_TYPES).default("Authoritative"),
  comment: z.string().optional(),
  ...recordMeta,
});
export type AcceptedDomain = z.infer<typeof AcceptedDomainSchema>;
