// Use case "deliver": one delivery job becomes one SMTP attempt (with failover), then tracking, retry, NDR.
import type { DeliveryJob, RecipientOutcome } from "../message.ts";
import { FINAL_STATUSES } from "../ports.ts";
import type { RecordSet } from "../records/record-set.ts";
import type { SendConnector } from "../records/send-connector.ts";
import { REMOTE_PERMANENT } from "../replies.ts";
import { heldJobKey, parkHeldJob, sendOnIfResumed } from "./admin-hold.ts";
import { attemptDelivery, smartHostCredentials } from "./attempt.ts";
import { dropBodyIfDone, readBody } from "./body.ts";
import { relayHostName } from "./bounce.ts";
import { withJobClaim } from "./claim.ts";
import { type AttemptWindow, attemptWindow, MIN_ATTEMPT_MS, msLeft } from "./deadline.ts";
import { type DeliverDeps, logOf } from "./deps.ts";
import { recordHardBounces, screenSuppressed } from "./feedback.ts";
import {
  type AttemptRoute,
  admitAttempt,
  nextHopOptions,
  noteFailover,
  noteThrottle,
  routeForAttempt,
} from "./next-hop-gate.ts";
import { deliveryJobId, planRoutes } from "./plan.ts";
import { queueDelaySeconds, recordDelivered, type SettleResult, settle } from "./settle.ts";
import { resolveTargets } from "./targets.ts";
import { policedTargets } from "./tls-targets.ts";

export type DeliverResult =
  | { kind: "waiting"; notBefore: string }
  | { kind: "nothing-to-do"; reason: string }
  /** Sent back to the queue unattempted: too little time left, or another copy holds the job's claim. */
  | { kind: "returned"; reason: string; delaySeconds: number }
  | { kind: "rerouted"; jobs: string[]; settled: SettleResult }
  | ({ kind: "attempted" } & SettleResult);

/**
 * The recipients this job may still act on. A row that is final is left alone; a row whose attempt
 * count is past the job's belongs to a newer job (this one is a redelivered duplicate); a Suspended
 * row this job owns is held for the admin. A missing row (the job overtook route's bookkeeping) is
 * created.
 */
async function openRecipients(
  deps: DeliverDeps,
  job: DeliveryJob,
  at: string,
): Promise<{ open: string[]; held: string[] }> {
  const open: string[] = [];
  const held: string[] = [];
  for (const recipient of job.recipients) {
    let row = await deps.tracking.get(job.messageId, recipient);
    if (!row) {
      row = {
        messageId: job.messageId,
        recipient,
        sender: job.mailFrom,
        status: "Routed",
        receivedAt: job.receivedAt,
        updatedAt: at,
        connector: job.connector,
        nextHop: job.nextHopKey,
        attempts: job.attempts,
        jobId: job.jobId,
        size: job.size,
      };
      await deps.tracking.create(row);
    }
    if (FINAL_STATUSES.includes(row.status)) continue;
    if (row.attempts > job.attempts) continue;
    if (row.status === "Suspended") held.push(recipient);
    else open.push(recipient);
  }
  return { open, held };
}

/**
 * The job's connector was deleted, disabled or switched between MX and smart hosts since routing:
 * route the open recipients again, as Exchange re-routes a queue whose connector went away. The
 * job's origin is unknown here, so connectors scoped to receive connectors are not candidates.
 */
async function reroute(
  deps: DeliverDeps,
  set: RecordSet,
  job: DeliveryJob,
  open: string[],
  now: Date,
): Promise<DeliverResult> {
  const plan = planRoutes(set.sendConnectors, { sender: job.mailFrom, size: job.size }, open);
  const jobs: string[] = [];
  for (const g of plan.groups) {
    const next: DeliveryJob = {
      ...job,
      jobId: deliveryJobId(job.messageId, g.connector.name, g.nextHopKey),
      connector: g.connector.name,
      nextHop: g.nextHop,
      nextHopKey: g.nextHopKey,
      recipients: g.recipients,
    };
    delete next.notBefore;
    await deps.deliveryQueue.send(next);
    jobs.push(next.jobId);
    for (const r of g.recipients)
      await deps.tracking.update(
        job.messageId,
        r,
        { connector: g.connector.name, nextHop: g.nextHopKey, jobId: next.jobId },
        { ifStatusIn: ["Queued", "Routed", "Deferred"] },
      );
  }
  const unroutable: RecipientOutcome[] = plan.unroutable.map((u) => ({
    recipient: u.recipient,
    status: "permanent",
    reply: REMOTE_PERMANENT.unroutable(`no route to ${u.domain}`),
    // The connectors' names and why each could not take it: the admin's, not the NDR's.
    detail: `Unable to route: ${u.reason}`,
  }));
  const settled = await settle(deps, set.settings, job, unroutable, now);
  logOf(deps).warn("job rerouted", { jobId: job.jobId, connector: job.connector, jobs });
  return { kind: "rerouted", jobs, settled };
}

/** The job's connector as it is now, or "reroute" when it went away or changed its kind of routing. */
function connectorOf(set: RecordSet, job: DeliveryJob): SendConnector | "reroute" {
  const connector = set.sendConnectors.find((c) => c.name === job.connector && c.enabled);
  if (!connector || connector.dnsRoutingEnabled !== (job.nextHop.type === "mx")) return "reroute";
  return connector;
}

async function attempt(
  deps: DeliverDeps,
  set: RecordSet,
  job: DeliveryJob,
  route: AttemptRoute,
  open: string[],
  window: AttemptWindow,
  onSent: (outcomes: RecipientOutcome[]) => Promise<void>,
): Promise<RecipientOutcome[]> {
  const { connector, nextHop } = route;
  const deadline = window.deadline;
  const targets = await resolveTargets(deps.dns, connector, nextHop, deps.random);
  if (!targets.ok) {
    const { status, reply, detail } = targets;
    return open.map((recipient) => ({ recipient, status, reply, ...(detail ? { detail } : {}) }));
  }
  const domain = nextHop.type === "mx" ? nextHop.domain : "";
  const policed = await policedTargets(deps, connector, domain, targets.targets);
  if (!policed.ok) {
    const { reply, tlsPolicy } = policed;
    return open.map((recipient) => ({ recipient, status: "transient", reply, tlsPolicy }));
  }
  const credentials = await smartHostCredentials(deps, connector);
  if (!credentials.ok) {
    const { reply, detail } = credentials;
    return open.map((recipient) => ({ recipient, status: "transient", reply, detail }));
  }
  return attemptDelivery(deps, {
    connector,
    targets: policed.targets,
    ehloName: connector.fqdn ?? relayHostName(set.settings, deps),
    mailFrom: job.mailFrom,
    recipients: open,
    raw: withSignatures(job.dkimSignatures, await readBody(deps.messages, job.body)),
    ...(credentials.auth ? { auth: credentials.auth } : {}),
    sessionPrefix: `${job.jobId}.${job.attempts + 1}`,
    ...(deadline ? { deadline } : {}),
    ...(job.smtpUtf8 ? { smtpUtf8: true } : {}),
    ...(job.dsn ? { dsn: job.dsn } : {}),
    ...(job.rcptDsn ? { rcptDsn: job.rcptDsn } : {}),
    ...nextHopOptions(deps, set.settings, route, window),
    onSent,
  });
}

/** The body as sent: route's DKIM-Signature fields first (RFC 6376 §5.6), then the message. */
function withSignatures(signatures: string | undefined, raw: Uint8Array): Uint8Array {
  if (!signatures) return raw;
  return Buffer.concat([Buffer.from(signatures, "utf8"), raw]);
}

/** Back to the queue without an attempt: a new queue message, so no receive is counted either. */
async function giveBack(
  deps: DeliverDeps,
  job: DeliveryJob,
  reason: string,
  delaySeconds = 0,
): Promise<DeliverResult> {
  await deps.deliveryQueue.send(job, delaySeconds ? { delaySeconds } : {});
  logOf(deps).info("job returned to the queue", { jobId: job.jobId, reason, delaySeconds });
  return { kind: "returned", reason, delaySeconds };
}

/**
 * Delivers one job. `timeLeftMs` is the time the caller has left (Lambda's
 * getRemainingTimeInMillis); the attempt ends inside it. A throw leaves the job in the queue; the
 * batch layer reports it on its last receive (functions/shared/batch.ts).
 */
export async function deliverJob(
  deps: DeliverDeps,
  job: DeliveryJob,
  timeLeftMs?: number,
): Promise<DeliverResult> {
  const now = deps.clock.now();
  if (job.notBefore && Date.parse(job.notBefore) > now.getTime()) {
    await deps.deliveryQueue.send(job, {
      delaySeconds: queueDelaySeconds(new Date(job.notBefore), now),
    });
    return { kind: "waiting", notBefore: job.notBefore };
  }
  const window = attemptWindow(now, timeLeftMs);
  if ((msLeft(window.deadline, now) ?? MIN_ATTEMPT_MS) < MIN_ATTEMPT_MS)
    return giveBack(deps, job, "too little time left in this invocation for an attempt");
  const run = await withJobClaim(
    deps,
    job,
    window,
    () => claimed(deps, job, now, window),
    (r) => r.settled,
  );
  if (run.claimed) {
    // After the claim is released, so a copy sent on does not wait for this one's lease.
    if (run.value.parked) await sendOnIfResumed(deps, run.value.parked);
    return run.value.result;
  }
  // Another copy is sending. If it finished meanwhile there is nothing left; else this copy comes
  // back when that copy's lease ends, in case it died.
  const { open, held } = await openRecipients(deps, job, now.toISOString());
  if (open.length === 0 && held.length === 0)
    return { kind: "nothing-to-do", reason: "another copy of this job finished it" };
  return giveBack(
    deps,
    job,
    `another copy of this job holds its claim until ${run.until}`,
    Math.max(1, queueDelaySeconds(new Date(run.until), now)),
  );
}

async function claimed(
  deps: DeliverDeps,
  job: DeliveryJob,
  now: Date,
  window: AttemptWindow,
): Promise<{ result: DeliverResult; settled: boolean; parked?: DeliveryJob }> {
  const set = await deps.records.get();
  const { open, held } = await openRecipients(deps, job, now.toISOString());
  // Parked before anything else, so a suspended recipient is never dropped (resume sends it on).
  const parked = held.length ? await parkHeldJob(deps.messages, job, held) : undefined;
  const run = await claimedOpen(deps, set, job, open, held, now, window);
  return parked ? { ...run, parked } : run;
}

/** The claimed job's open recipients: attempted, rerouted or given back (held ones are parked). */
async function claimedOpen(
  deps: DeliverDeps,
  set: RecordSet,
  job: DeliveryJob,
  open: string[],
  held: string[],
  now: Date,
  window: AttemptWindow,
): Promise<{ result: DeliverResult; settled: boolean }> {
  // Settled: a later copy of this job finds nothing to act on (parked recipients come back under it).
  const settled = held.length === 0;
  if (open.length === 0) {
    await dropBodyIfDone(deps.tracking, deps.messages, job.messageId, job.body);
    const reason = held.length
      ? `suspended: ${held.length} recipient(s) held as ${heldJobKey(job.jobId)} until resumed`
      : "every recipient is final or owned by a newer job";
    return { result: { kind: "nothing-to-do", reason }, settled };
  }
  const connector = connectorOf(set, job);
  if (connector === "reroute")
    return { result: await reroute(deps, set, job, open, now), settled: false };
  // Suppressed recipients are settled without an attempt (feedback.ts), so they take no slot.
  const screened = await screenSuppressed(deps, set, job, open);
  let attempted: RecipientOutcome[] = [];
  const recorded = new Set<string>();
  if (screened.open.length) {
    // Next-hop limits (next-hop-gate.ts): failover, then a slot and rate token, else back to the queue.
    const route = await routeForAttempt(deps, set, job, connector, screened.open);
    const admission = await admitAttempt(deps, set.settings, route, job, window);
    if (!admission.ok) {
      const waiting = await listWaiting(deps, job, screened.open);
      const result = await giveBack(deps, waiting, admission.reason, admission.delaySeconds);
      return { result, settled: false };
    }
    if (route.failover) await noteFailover(deps, job, screened.open, route.failover);
    // Each transaction's 250s are recorded as it ends, before the slot, circuit and throttle
    // bookkeeping and the rest of settle: a crash after the remote 250 then sends twice only if
    // it comes before that one durable record (settle.ts, recordDelivered).
    const onSent = async (sent: RecipientOutcome[]) => {
      for (const r of await recordDelivered(deps, set.settings, job, sent, deps.clock.now()))
        recorded.add(r);
    };
    attempted = await attempt(deps, set, job, route, screened.open, window, onSent).finally(
      admission.release,
    );
    await noteThrottle(deps, set.settings, route, attempted);
  }
  const outcomes = [...screened.suppressed, ...attempted];
  const done = await settle(deps, set.settings, job, outcomes, deps.clock.now(), recorded);
  await recordHardBounces(deps, set, job, attempted);
  logOf(deps).info("delivery attempt", {
    jobId: job.jobId,
    messageId: job.messageId,
    connector: job.connector,
    nextHop: job.nextHopKey,
    attempt: job.attempts + 1,
    ...done,
  });
  return { result: { kind: "attempted", ...done }, settled };
}

/**
 * A job that next-hop limits hold back waits in its queue: its first-attempt rows (created Routed,
 * which DynamoDB leaves out of the queue view) are written once so Get-Queue counts them; the
 * copy given back says so, and later give-backs write nothing.
 */
async function listWaiting(
  deps: DeliverDeps,
  job: DeliveryJob,
  recipients: string[],
): Promise<DeliveryJob> {
  if (job.listed || job.attempts > 0) return job;
  const updatedAt = deps.clock.now().toISOString();
  for (const r of recipients)
    await deps.tracking.update(job.messageId, r, { updatedAt }, { ifStatusIn: ["Routed"] });
  return { ...job, listed: true };
}
