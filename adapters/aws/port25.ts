// A courier guard for deployments without AWS's port-25 approval: connections to port 25 fail at once with a clear LastError.
import type { RecipientOutcome } from "#core/message.ts";
import { networkFailure } from "#core/outcome.ts";
import type { CourierRequest, SmtpCourier } from "#core/ports.ts";

/*
 * AWS drops outbound TCP 25 from Lambda and EC2 until the account's request for the NAT Elastic
 * IPs is approved. Without this guard each attempt would wait out the connect timeout and report
 * a bare timeout; with it the queue shows why, and the mail stays queued (transient, 4.4.1) until
 * the setting changes or the message expires with an NDR, as Exchange does for an unreachable
 * next hop.
 */
export class Port25GuardCourier implements SmtpCourier {
  readonly #inner: SmtpCourier;
  readonly #port25Enabled: boolean;

  constructor(inner: SmtpCourier, options: { port25Enabled: boolean }) {
    this.#inner = inner;
    this.#port25Enabled = options.port25Enabled;
  }

  async send(request: CourierRequest): Promise<RecipientOutcome[]> {
    if (this.#port25Enabled || request.port !== 25) return this.#inner.send(request);
    request.protocolLog?.(
      "*",
      `not connecting to ${request.host}:25: outbound port 25 is disabled`,
    );
    // The sender's delay DSN says "451 4.4.1 Unable to connect"; the setting is the admin's to see.
    const failure = networkFailure(
      "connect",
      "outbound port 25 is not enabled for this deployment (mxDeliveryEnabled false; see docs/aws.md, port 25 request)",
    );
    return request.recipients.map((recipient) => ({
      recipient,
      status: "transient",
      remoteHost: request.host,
      ...failure,
    }));
  }
}
