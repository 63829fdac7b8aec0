// What a delivery job carries of the envelope's SMTPUTF8 and DSN parameters, and the success notices after an attempt.
import type { DsnRecipient } from "../dsn.ts";
import type { DeliveryJob, Envelope, RecipientOutcome } from "../message.ts";

/** The job's share of the envelope: SMTPUTF8, RET/ENVID, and NOTIFY/ORCPT of its own recipients. */
export function jobExtensions(
  envelope: Envelope,
  recipients: string[],
): Pick<DeliveryJob, "smtpUtf8" | "dsn" | "rcptDsn"> {
  const out: Pick<DeliveryJob, "smtpUtf8" | "dsn" | "rcptDsn"> = {};
  if (envelope.smtpUtf8) out.smtpUtf8 = true;
  if (envelope.dsn) out.dsn = envelope.dsn;
  const table = envelope.rcptDsn;
  if (table) {
    const mine = recipients.flatMap((r) => {
      const d = table[r.toLowerCase()];
      return d ? [[r.toLowerCase(), d] as const] : [];
    });
    if (mine.length) out.rcptDsn = Object.fromEntries(mine);
  }
  return out;
}

/**
 * RFC 3461 §5.2.2: a recipient handed to a next hop that did not take the DSN parameters is
 * reported "relayed" (the relay cannot know about final delivery); where the hop took them, it
 * reports itself and the relay stays silent. sendDsn keeps only recipients with NOTIFY=SUCCESS.
 */
export function relayedRecipients(delivered: RecipientOutcome[], at: Date): DsnRecipient[] {
  return delivered
    .filter((o) => o.status === "delivered" && !o.dsnPassedOn)
    .map((o) => ({
      recipient: o.recipient,
      action: "relayed",
      status: "2.0.0",
      ...(o.remoteHost ? { remoteMta: o.remoteHost.replace(/\[[^\]]*\]$/, "") } : {}),
      diagnostic: o.reply,
      lastAttemptAt: at,
    }));
}
