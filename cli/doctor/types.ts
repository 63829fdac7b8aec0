// What a `relay doctor` check is: a function over DoctorEnv (records, DNS, network) returning findings.
import type { SecretStore } from "#core/ports.ts";
import type { RecordSet } from "#core/records/record-set.ts";
import type { SpfDns } from "./spf.ts";

export type Status = "OK" | "WARN" | "FAIL";

export interface Finding {
  check: string;
  /** What was looked at: an IP, a domain, a host:port, a file, a record. */
  subject: string;
  status: Status;
  detail: string;
  /** What to do; absent when OK. */
  fix?: string;
}

export interface DoctorDns extends SpfDns {
  ptr(ip: string): Promise<string[]>;
}

export interface DoctorEnv {
  runtime: "local" | "aws";
  set: RecordSet;
  egressIps: string[];
  /** Where the egress IPs came from, for the fix text. */
  egressSource: string;
  dns: DoctorDns;
  probeDomain: string;
  /** Resolves when a TCP connection opens within the timeout; rejects with the reason otherwise. */
  connect(host: string, port: number): Promise<void>;
  certificate(): Promise<{ source: string; pem: string } | undefined>;
  poisonCount(): Promise<number | undefined>;
  /** Where DKIM private keys are read from: RELAY_HOME's secrets, or Secrets Manager with --aws. */
  secrets: SecretStore;
}

export interface DoctorCheck {
  id: string;
  title: string;
  run(env: DoctorEnv): Promise<Finding[]>;
}

export const ok = (check: string, subject: string, detail: string): Finding => ({
  check,
  subject,
  status: "OK",
  detail,
});
export const bad = (
  check: string,
  subject: string,
  status: Status,
  detail: string,
  fix: string,
): Finding => ({
  check,
  subject,
  status,
  detail,
  fix,
});

/** Domains the relay sends as: accepted domains (not relay ones) and sender address spaces, wildcards dropped. */
export function senderDomains(set: RecordSet): string[] {
  const names = [
    ...set.acceptedDomains.map((d) => d.domain),
    ...set.sendConnectors.flatMap((c) => c.senderAddressSpaces),
    ...set.smtpUsers.flatMap((u) => u.allowedSenders),
  ]
    .map((p) => p.slice(p.lastIndexOf("@") + 1).replace(/^\*\.?/, ""))
    .filter((d) => d !== "" && d.includes("."));
  return [...new Set(names.map((d) => d.toLowerCase()))].sort();
}
