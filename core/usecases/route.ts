// Use case "route": a submitted message becomes tracking rows and one delivery job per (send connector, next hop).
import type { DsnRecipient } from "../dsn.ts";
import type { BodyRef, DeliveryJob, SubmittedMessage } from "../message.ts";
import { formatLastError } from "../outcome.ts";
import type { RecipientRow, RecipientStatus, RowEvent } from "../ports.ts";
import { REMOTE_PERMANENT } from "../replies.ts";
import { bodyRefFor, dropBodyIfDone, jobBodyRef, readBody } from "./body.ts";
import { type DsnResult, sendDsn } from "./bounce.ts";
import { countEvent, deliveryDimensions } from "./counts.ts";
import { logOf, type RouteDeps } from "./deps.ts";
import { signMessage } from "./dkim.ts";
import { jobExtensions } from "./extensions.ts";
import { deliveryJobId, planRoutes, type RouteGroup } from "./plan.ts";

export interface RoutedJob {
  jobId: string;
  connector: string;
  nextHopKey: string;
  recipients: string[];
}

export interface RouteOutcome {
  messageId: string;
  jobs: RoutedJob[];
  unroutable: string[];
  /** Recipients an earlier run already routed: this was a redelivered submission. */
  alreadyRouted: string[];
  ndr?: DsnResult;
}

function uniqueRecipients(rcptTo: string[]): string[] {
  const seen = new Set<string>();
  return rcptTo.filter((r) => {
    const k = r.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const nonAscii = (s: string) => /[^\p{ASCII}]/u.test(s);

/** As the courier decides it: the SMTPUTF8 parameter, or an address that cannot go without it. */
function needsSmtpUtf8(message: SubmittedMessage): boolean {
  const { envelope } = message;
  return !!envelope.smtpUtf8 || nonAscii(envelope.mailFrom) || envelope.rcptTo.some(nonAscii);
}

/*
 * The 7-bit form DKIM signed (RFC 6376 §5.3) becomes the body the jobs carry, so deliver sends the
 * signed bytes as they are on every attempt and to every hop: a retry is byte-identical, and no
 * code that could change between attempts (a deploy) re-derives them. A claim-checked body is
 * replaced under its own key (an atomic put of an equivalent MIME form): no second object, and the
 * cleanup that drops it when every recipient is final stays as it is. A redelivered submission then
 * reads the 7-bit form, which converts to itself and signs to the same fields. An inline body goes
 * inline again, or to the store when the encoding made it larger than the limit.
 */
async function signedBodyRef(
  deps: RouteDeps,
  key: string,
  ref: BodyRef,
  converted: Uint8Array,
): Promise<BodyRef> {
  if (!("storeKey" in ref)) return bodyRefFor(deps, key, converted);
  await deps.messages.put(ref.storeKey, converted);
  return ref;
}

const routeDetail = (g: RouteGroup, jobId: string) =>
  `send connector "${g.connector.name}" (address space "${g.addressSpace.domain}" cost ${g.addressSpace.cost}), next hop ${g.nextHopKey}, job ${jobId}`;

/** Statuses a redelivered submission routes again: left before its jobs were surely out. */
const UNSETTLED: RecipientStatus[] = ["Queued", "Routed"];

/**
 * Order matters for at-least-once queues without transactions:
 *  1. rows are created (conditional create): Routed with their ROUTE event when a send connector
 *     takes the recipient (one write per recipient), else Queued; so the message is visible and no
 *     delivery job can find "every row final" and drop the body while other rows are unwritten;
 *  2. jobs are emitted (deterministic ids);
 *  3. NDRs for unroutable recipients are queued;
 *  4. only then unroutable rows fail.
 * A crash anywhere leaves Routed or Queued rows, which a redelivered submission routes again: it
 * emits those jobs again, a duplicate that deliver's claim and rows make harmless, never a lost one.
 */
export async function routeMessage(
  deps: RouteDeps,
  message: SubmittedMessage,
): Promise<RouteOutcome> {
  const now = deps.clock.now().toISOString();
  const set = await deps.records.get();
  const recipients = uniqueRecipients(message.envelope.rcptTo);
  const sender = message.envelope.mailFrom;
  const base = {
    messageId: message.id,
    sender,
    receivedAt: message.receivedAt,
    updatedAt: now,
    attempts: 0,
    size: message.size,
    ...(message.subject ? { subject: message.subject } : {}),
    ...(message.internetMessageId ? { internetMessageId: message.internetMessageId } : {}),
  };
  const query = {
    sender,
    size: message.size,
    ...(message.origin.type === "smtp" ? { sourceConnector: message.origin.receiveConnector } : {}),
  };
  const full = planRoutes(set.sendConnectors, query, recipients);
  const created = new Set<string>();
  for (const g of full.groups) {
    const jobId = deliveryJobId(message.id, g.connector.name, g.nextHopKey);
    const route = { connector: g.connector.name, nextHop: g.nextHopKey, jobId };
    const detail = routeDetail(g, jobId);
    const event: RowEvent = { at: now, event: "ROUTE", source: "ROUTING", detail };
    for (const recipient of g.recipients) {
      const row: RecipientRow = { ...base, ...route, recipient, status: "Routed" };
      if (await deps.tracking.create(row, event)) created.add(recipient.toLowerCase());
    }
  }
  for (const u of full.unroutable)
    if (await deps.tracking.create({ ...base, recipient: u.recipient, status: "Queued" }))
      created.add(u.recipient.toLowerCase());
  // Only a redelivered submission (some row existed) reads where its recipients stand, which saves
  // a strongly consistent Query per message.
  const rows = new Map(
    created.size < recipients.length
      ? (await deps.tracking.listByMessage(message.id)).map((r) => [r.recipient.toLowerCase(), r])
      : [],
  );
  const pending = recipients.filter(
    (r) =>
      created.has(r.toLowerCase()) ||
      UNSETTLED.includes(rows.get(r.toLowerCase())?.status ?? "Queued"),
  );
  const alreadyRouted = recipients.filter((r) => !pending.includes(r));
  const outcome: RouteOutcome = { messageId: message.id, jobs: [], unroutable: [], alreadyRouted };
  if (pending.length === 0) return outcome;
  const plan =
    pending.length === recipients.length ? full : planRoutes(set.sendConnectors, query, pending);

  let body = plan.groups.length ? await jobBodyRef(deps, message.id, message.body) : message.body;
  /*
   * DKIM signing happens here, once per message: after the send connectors are chosen (nothing is
   * signed for mail that cannot leave) and before any job exists, so every job and every retry of
   * it carries the same signature fields. They travel in the job rather than as a second stored
   * body: no extra write or cleanup. A redelivered submission signs again with t= = receivedAt and
   * deterministic algorithms, so a duplicate job carries the very same bytes. Not at the listener:
   * the 250 must not wait for Secrets Manager, and the listener holds no DKIM keys.
   */
  const dkim = plan.groups.length
    ? await signMessage(deps, set, {
        messageId: message.id,
        receivedAt: message.receivedAt,
        read: () => readBody(deps.messages, body),
        smtpUtf8: needsSmtpUtf8(message),
      })
    : undefined;
  if (dkim?.signed && dkim.converted)
    body = await signedBodyRef(deps, message.id, body, dkim.converted);
  for (const g of plan.groups) {
    const job: DeliveryJob = {
      jobId: deliveryJobId(message.id, g.connector.name, g.nextHopKey),
      messageId: message.id,
      connector: g.connector.name,
      nextHop: g.nextHop,
      nextHopKey: g.nextHopKey,
      mailFrom: sender,
      recipients: g.recipients,
      body,
      size: message.size,
      receivedAt: message.receivedAt,
      attempts: 0,
      firstSeenAt: now,
      ...(message.internetMessageId ? { internetMessageId: message.internetMessageId } : {}),
      ...jobExtensions(message.envelope, g.recipients),
      ...(dkim?.signed ? { dkimSignatures: dkim.signatures } : {}),
    };
    await deps.deliveryQueue.send(job);
    outcome.jobs.push({
      jobId: job.jobId,
      connector: job.connector,
      nextHopKey: job.nextHopKey,
      recipients: job.recipients,
    });
  }

  if (plan.unroutable.length) {
    // The sender sees a generic reason; the connector-by-connector verdict goes to LastError.
    const ndr: DsnRecipient[] = plan.unroutable.map((u) => ({
      recipient: u.recipient,
      action: "failed",
      status: "5.4.4",
      diagnostic: REMOTE_PERMANENT.unroutable(`no route to ${u.domain}`),
      lastAttemptAt: new Date(now),
    }));
    outcome.ndr = await sendDsn(
      deps,
      set.settings,
      "failure",
      {
        id: message.id,
        sender,
        receivedAt: message.receivedAt,
        body: message.body,
        origin: message.origin,
        ...(message.envelope.dsn ? { dsn: message.envelope.dsn } : {}),
        ...(message.envelope.rcptDsn ? { rcptDsn: message.envelope.rcptDsn } : {}),
      },
      ndr,
    );
  }

  // Counted once per recipient: a redelivered submission does not count the rows it found.
  for (const g of plan.groups)
    for (const recipient of g.recipients)
      if (created.has(recipient.toLowerCase()))
        countEvent(deps, "ROUTE", deliveryDimensions(g.connector.name, g.nextHop, g.nextHopKey));
  for (const u of plan.unroutable) {
    const lastError = formatLastError(undefined, REMOTE_PERMANENT.unroutable(u.reason));
    const patch: Partial<RecipientRow> = { status: "Failed", lastError, updatedAt: now };
    const event: RowEvent = { at: now, event: "FAIL", source: "ROUTING", detail: lastError };
    // A Routed row here is one an earlier run routed before its connector went away.
    const options = { ifStatusIn: UNSETTLED, event };
    if (!(await deps.tracking.update(message.id, u.recipient, patch, options))) continue;
    outcome.unroutable.push(u.recipient);
    // No send connector took it: counted at the service level only.
    countEvent(deps, "FAIL");
  }
  await dropBodyIfDone(deps.tracking, deps.messages, message.id, message.body);
  logOf(deps).info("message routed", {
    messageId: message.id,
    jobs: outcome.jobs.map((j) => `${j.connector} -> ${j.nextHopKey} (${j.recipients.length})`),
    unroutable: outcome.unroutable,
    ...(dkim?.signed ? { dkim: `${dkim.domain} (${dkim.selectors.join(", ")})` } : {}),
  });
  return outcome;
}
