// Delivery jobs as route emits them, for tests that feed the deliver function directly, and what a sink received per recipient.
import { newMessageId } from "#core/ids.ts";
import type { DeliveryJob } from "#core/message.ts";
import { deliveryJobId } from "#core/usecases/plan.ts";
import type { Sink } from "./sink.ts";

/** The job route would emit for one recipient through the smart-host connector `connector` to the sink. */
export function smartHostJob(recipient: string, sink: Sink, connector = "Partner"): DeliveryJob {
  const messageId = newMessageId();
  const hosts = [`127.0.0.1:${sink.port}`];
  const raw = `From: <app@contoso.test>\r\nTo: <${recipient}>\r\nSubject: Invoice\r\nMessage-ID: <${messageId}@contoso.test>\r\n\r\nHello.\r\n`;
  const now = new Date().toISOString();
  return {
    jobId: deliveryJobId(messageId, connector, hosts.join(",")),
    messageId,
    connector,
    nextHop: { type: "smarthost", hosts },
    nextHopKey: hosts.join(","),
    mailFrom: "app@contoso.test",
    recipients: [recipient],
    body: { inline: Buffer.from(raw).toString("base64") },
    size: raw.length,
    receivedAt: now,
    attempts: 0,
    firstSeenAt: now,
  };
}

/** How often the sink accepted a message for each recipient (1 each: no duplicates, none lost). */
export function deliveriesAt(sink: Sink): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of sink.received) for (const r of m.rcptTo) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}
