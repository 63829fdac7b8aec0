// The analysis as a header analyzer shows it: the message, each hop with its delay, problems, this relay's hop, authentication.
import { type Out, printTable } from "../output.ts";
import type { AuthReport } from "./auth.ts";
import type { Route } from "./route.ts";

/** "3 s", "2 min 5 s", "1 h 4 min", "2 d 3 h": delays as an admin reads them. */
export function duration(seconds: number): string {
  const sign = seconds < 0 ? "-" : "";
  let s = Math.abs(seconds);
  if (s < 60) return `${sign}${s} s`;
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts =
    d > 0 ? [`${d} d`, `${h} h`] : h > 0 ? [`${h} h`, `${m} min`] : [`${m} min`, `${s} s`];
  return sign + parts.join(" ");
}

const yesNo = (v: boolean | undefined) => (v === undefined ? "?" : v ? "yes" : "no");

export function renderAnalysis(
  out: Out,
  route: Route,
  auth: AuthReport | undefined,
  dns: string,
): void {
  if (out.json) {
    out.write(
      `${JSON.stringify({ ...route, ...(auth ? { authentication: auth } : {}) }, null, 2)}\n`,
    );
    return;
  }
  for (const [k, v] of [
    ["Subject", route.subject],
    ["Message-ID", route.messageId],
    ["Date", route.date],
  ] as const)
    if (v !== undefined) out.write(`${k.padEnd(10)} : ${v}\n`);
  out.write("\n");
  printTable(
    out,
    route.hops.map((h) => ({
      Hop: h.hop,
      Delay: h.delaySeconds === undefined ? "*" : duration(h.delaySeconds),
      From: [h.from, h.fromIp && h.from !== `[${h.fromIp}]` ? `[${h.fromIp}]` : undefined]
        .filter(Boolean)
        .join(" "),
      By: h.relay ? `${h.by ?? "?"} (this relay)` : h.by,
      With: h.with,
      TLS: yesNo(h.protocol.tls),
      Auth: yesNo(h.protocol.auth),
      Time: h.time ?? "?",
    })),
    ["Hop", "Delay", "From", "By", "With", "TLS", "Auth", "Time"],
  );
  if (route.totalSeconds !== undefined)
    out.write(`\nTotal delay: ${duration(route.totalSeconds)}\n`);
  for (const h of route.hops.filter((x) => x.relay))
    out.write(
      `This relay: hop ${h.hop}${h.relay?.receiveConnector !== undefined ? `, receive connector "${h.relay.receiveConnector}"` : ""}${h.id ? `, message id ${h.id}` : ""}\n`,
    );
  const problems = route.hops.flatMap((h) => h.problems.map((p) => `hop ${h.hop}: ${p}`));
  if (problems.length + route.notes.length > 0) {
    out.write("\nNotes:\n");
    for (const p of [...problems, ...route.notes]) out.write(`  ${p}\n`);
  }
  if (!auth) return;
  out.write(`\nAuthentication (DNS: ${dns}):\n`);
  const signatures = auth.dkim.filter((d) => d.domain !== undefined || d.result !== "none");
  if (signatures.length === 0) out.write(`  DKIM   ${"none".padEnd(9)} no DKIM-Signature\n`);
  for (const d of signatures)
    out.write(
      `  DKIM   ${d.result.padEnd(9)} ${d.domain ?? "?"}${d.selector ? ` (selector ${d.selector})` : ""}${d.aligned ? ", aligned with From" : d.result === "pass" ? ", not aligned with From" : ""}${d.comment ? `: ${d.comment}` : ""}\n`,
    );
  const s = auth.spf;
  out.write(
    `  SPF    ${s.result.padEnd(9)} ${s.ip ? `${s.ip} for ${s.domain ?? "?"}` : ""}${s.comment ? `${s.ip ? ": " : ""}${s.comment}` : ""}\n`,
  );
  const m = auth.dmarc;
  out.write(
    `  DMARC  ${m.result.padEnd(9)} ${m.domain ? `${m.domain} (p=${m.policy ?? "none"})` : ""}${m.comment ? ` ${m.comment}` : ""}\n`,
  );
  out.write(
    `  ARC    ${auth.arc.result.padEnd(9)}${auth.arc.comment ? ` ${auth.arc.comment}` : ""}\n`,
  );
  if (auth.recorded.length > 0) {
    out.write("\nRecorded by the receiving servers:\n");
    for (const r of auth.recorded) out.write(`  Authentication-Results: ${r}\n`);
  }
}
