// Which TLS each MX target gets: DANE when authenticated TLSA exists, else the MTA-STS policy, else the connector's own settings.
import type { CourierTls } from "../ports.ts";
import { REMOTE_TRANSIENT, type SmtpReply } from "../replies.ts";
import { type TlsaAnswer, tlsaName, usableTlsa } from "./dane.ts";
import { mxAllowedBy } from "./mta-sts.ts";
import type { MtaStsState } from "./mta-sts-cache.ts";

/** A connection target with the TLS the policy demands and a line saying which policy and why. */
export interface PolicedTarget {
  host: string;
  address: string;
  port: number;
  tls: CourierTls;
  tlsPolicy: string;
}

export type TlsPolicyDecision =
  | { ok: true; targets: PolicedTarget[]; notes: string[] }
  | { ok: false; reply: SmtpReply; tlsPolicy: string };

export interface PolicyInput {
  targets: { host: string; address: string; port: number }[];
  /** The connector's own TLS (opportunistic unless it requires more). */
  base: CourierTls;
  /** Undefined when the connector does not use DANE (disabled, or its resolver is not trusted). */
  tlsa?: Map<string, TlsaAnswer>;
  mtaSts: MtaStsState | { kind: "disabled" };
  /** Called by the courier with what an MTA-STS testing policy would have refused. */
  audit: (host: string, problem: string) => void;
}

type HostPolicy = { ok: true; tls: CourierTls; tlsPolicy: string } | { ok: false; why: string };

function danePolicy(host: string, answer: TlsaAnswer | undefined): HostPolicy | undefined {
  if (!answer) return undefined;
  const name = tlsaName(host);
  if (answer.kind === "failed")
    // RFC 7672 §2.2: a TLSA answer that cannot be had is not "no TLSA"; skip the host (fail closed).
    return { ok: false, why: `DANE: TLSA lookup for ${name} failed: ${answer.reason}` };
  if (answer.kind !== "authenticated") return undefined;
  const usable = usableTlsa(answer.records);
  if (usable.length === 0)
    // Postfix's choice for an authenticated RRset with only unusable records: TLS, unauthenticated.
    return {
      ok: true,
      tls: { mode: "required", validate: "none", policy: `DANE (${name})` },
      tlsPolicy: `DANE: authenticated TLSA ${name} has no usable record; TLS required, unauthenticated`,
    };
  return {
    ok: true,
    tls: {
      mode: "required",
      validate: "dane",
      servername: host,
      tlsa: usable,
      policy: `DANE (${name})`,
    },
    tlsPolicy: `DANE: authenticated TLSA ${name} (${usable.length} usable record${usable.length > 1 ? "s" : ""})`,
  };
}

function stsPolicy(host: string, input: PolicyInput): HostPolicy | undefined {
  const sts = input.mtaSts;
  if (sts.kind !== "policy" || sts.policy.mode === "none") return undefined;
  const { policy } = sts;
  const listed = mxAllowedBy(host, policy);
  if (policy.mode === "enforce") {
    if (!listed)
      return {
        ok: false,
        why: `MTA-STS enforce: ${host} not in policy id ${policy.id} of ${policy.domain} (mx: ${policy.mx.join(", ")})`,
      };
    // RFC 8461 §4.2: TLS with a certificate for the MX name from a trusted CA.
    return {
      ok: true,
      tls: {
        mode: "required",
        validate: "domain",
        servername: host,
        policy: `MTA-STS enforce (policy id ${policy.id})`,
      },
      tlsPolicy: `MTA-STS enforce: policy id ${policy.id} of ${policy.domain} lists ${host}`,
    };
  }
  // Testing (RFC 8461 §5): deliver as usual; report what enforce would have refused.
  if (!listed)
    input.audit(host, `${host} not in policy id ${policy.id} (mx: ${policy.mx.join(", ")})`);
  return {
    ok: true,
    tls: { ...input.base, audit: (problem) => input.audit(host, problem) },
    tlsPolicy: `MTA-STS testing: policy id ${policy.id} of ${policy.domain}; failures logged, not enforced`,
  };
}

function basePolicy(input: PolicyInput): string {
  const sts =
    input.mtaSts.kind === "disabled"
      ? "MTA-STS off on this connector"
      : input.mtaSts.kind === "none"
        ? input.mtaSts.why
        : `MTA-STS policy id ${input.mtaSts.policy.id} is mode none`;
  const dane = input.tlsa ? "no authenticated TLSA" : "DANE off (no DNSSEC-validating resolver)";
  const own = input.base.mode === "required" ? "connector requires TLS" : "opportunistic TLS";
  return `${own}: ${sts}; ${dane}`;
}

/**
 * Per MX host: DANE takes precedence over MTA-STS (RFC 8461 §2), MTA-STS over the connector's
 * own settings. Hosts a policy refuses are left out; when none is left the attempt is transient
 * with every reason, so LastError says which check failed.
 */
export function decideTlsPolicy(input: PolicyInput): TlsPolicyDecision {
  const byHost = new Map<string, HostPolicy>();
  const targets: PolicedTarget[] = [];
  const notes: string[] = [];
  for (const t of input.targets) {
    let p = byHost.get(t.host);
    if (!p) {
      p = danePolicy(t.host, input.tlsa?.get(t.host)) ??
        stsPolicy(t.host, input) ?? { ok: true, tls: input.base, tlsPolicy: basePolicy(input) };
      byHost.set(t.host, p);
      if (!p.ok) notes.push(p.why);
    }
    if (p.ok) targets.push({ ...t, tls: p.tls, tlsPolicy: p.tlsPolicy });
  }
  if (targets.length) return { ok: true, targets, notes };
  return {
    ok: false,
    reply: REMOTE_TRANSIENT.tlsPolicy(notes.join("; ")),
    tlsPolicy: notes[0] ?? "no MX host",
  };
}
