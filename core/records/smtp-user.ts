// Schema of an SMTP user record: a credential for AUTH, stored only as a password hash.
import { z } from "zod";
import { recordMeta } from "./common.ts";
import { senderPattern } from "./send-connector.ts";

/** PHC-style scrypt hash, `$scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>`, as made by the CLI. */
export const PASSWORD_HASH =
  /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/;

export const SmtpUserSchema = z.strictObject({
  kind: z.literal("SmtpUser"),
  name: z.string().trim().min(1).max(128),
  passwordHash: z.string().regex(PASSWORD_HASH, {
    message:
      "not a password hash; set the password with `relay user set --name NAME` (it stores an scrypt hash, never the password)",
  }),
  enabled: z.boolean().default(true),
  /** Senders this user may use in MAIL FROM; empty: any address in an accepted domain. `*`: any. */
  allowedSenders: z.array(senderPattern).default([]),
  /**
   * Recipients per hour this user may submit to, over all its messages and connections (one
   * message can carry 200); absent: unlimited. Over it RCPT gets 452 4.5.3 and the client retries.
   */
  recipientRateLimit: z.number().int().positive().optional(),
  comment: z.string().optional(),
  ...recordMeta,
});
export type SmtpUser = z.infer<typeof SmtpUserSchema>;
