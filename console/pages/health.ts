// Health: invalid records with their field and fix, queue and dead-letter depth, and what `relay doctor` reports (run on demand).
import { doctorCommand } from "#cli/commands/doctor.ts";
import type { Finding } from "#cli/doctor/types.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import { type ConsoleApp, type ConsoleRequest, type ConsoleRoute, cliJson, reply } from "../app.ts";
import { type Html, html, table } from "../html.ts";

/** `relay doctor --json` itself, its output kept instead of printed: one set of checks for both. */
async function doctor(app: ConsoleApp): Promise<{ findings: Finding[] } | { error: string }> {
  try {
    return await cliJson<{ findings: Finding[] }>((out) =>
      doctorCommand(app.ctx, out, ["--json", "--timeout", "3"]),
    );
  } catch (error) {
    return { error: (error as Error).message };
  }
}

async function depth(app: ConsoleApp): Promise<Html> {
  try {
    const backend = await app.ctx.queues();
    const [submission, poison, active] = await Promise.all([
      backend.submissionCount(),
      backend.poisonCount(),
      backend.deps.tracking.listActive(),
    ]);
    const rows = [
      { Queue: "Submission (not routed yet)", Messages: submission ?? "unknown" },
      {
        Queue: "Poison (dead-letter queues)",
        Messages: poison ?? "unknown: give the dead-letter queue URLs",
      },
      { Queue: "Recipients not yet final", Messages: active.length },
    ];
    return table("Queue depth", ["Queue", "Messages"], rows);
  } catch (error) {
    return html`<p class="problems">Queues cannot be read: ${(error as Error).message}</p>`;
  }
}

async function healthPage(app: ConsoleApp, req: ConsoleRequest) {
  const set = buildRecordSet(await app.ctx.records.list());
  const problems = set.problems.map((p) => ({
    Record: p.record,
    Field: p.field,
    Problem: p.message,
  }));
  const invalid =
    problems.length === 0
      ? html`<p class="notice">Every record is valid.</p>`
      : html`<p class="problems">${problems.length} problem(s): these records are skipped by the relay until fixed.</p>${table("Invalid records", ["Record", "Field", "Problem"], problems)}`;
  let checks = html`<form method="get" action="/health"><input type="hidden" name="doctor" value="1"><p><button type="submit">Run relay doctor</button> (DNS, TLS certificate, PTR, SPF, DKIM, MTA-STS, port 25; takes a few seconds)</p></form>`;
  if (req.url.searchParams.get("doctor") === "1") {
    const d = await doctor(app);
    checks =
      "error" in d
        ? html`<p class="problems">relay doctor could not run: ${d.error}</p>`
        : table(
            "relay doctor",
            ["Status", "Check", "Subject", "Detail", "Fix"],
            d.findings.map((f) => ({
              Status: f.status,
              Check: f.check,
              Subject: f.subject,
              Detail: f.detail,
              Fix: f.fix,
            })),
          );
  }
  const body = html`<h2>Records</h2>${invalid}<h2>Queues</h2>${await depth(app)}<h2>Doctor</h2>${checks}`;
  return reply(app, req, "Health", body);
}

export const HEALTH_ROUTES: ConsoleRoute[] = [
  { method: "GET", path: /^\/health$/, handle: healthPage },
];
