// POSTs one delivery event to a webhook, signed like Stripe's: X-Relay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>.
import { createHmac } from "node:crypto";

/** HMAC-SHA256 with the webhook's secret over `<t>.<body>`: the time is signed so a replay can be refused. */
export function webhookSignature(secret: string, body: string, t: number): string {
  const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
  return `t=${t},v1=${v1}`;
}

export type WebhookResult = { ok: true } | { ok: false; error: string };

/**
 * One POST. A 2xx answer is delivered; any other answer, a connection failure or a time-out is
 * retried by the caller. The error text names the URL's origin and status, never the secret.
 */
export async function postWebhook(
  url: string,
  secret: string,
  body: string,
  eventId: string,
  options: { now: Date; timeoutMs?: number },
): Promise<WebhookResult> {
  const t = Math.floor(options.now.getTime() / 1000);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "connector-relay",
        "x-relay-event-id": eventId,
        "x-relay-signature": webhookSignature(secret, body, t),
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { ok: true };
    return { ok: false, error: `${new URL(url).origin} answered ${res.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      ok: false,
      error: `${new URL(url).origin}: ${cause ?? (error as Error).name ?? "request failed"}`,
    };
  }
}
