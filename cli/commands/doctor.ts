// `relay doctor`: runs every check against this runtime's records, DNS and network, one line per finding; exit 1 on any FAIL.

import { Resolver } from "node:dns/promises";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { isIpv4, isIpv6 } from "#core/records/common.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import { int, list, parseFlags, str } from "../args.ts";
import type { CliContext } from "../context.ts";
import { CHECKS, type DoctorDns, type DoctorEnv, type Finding } from "../doctor/checks.ts";
import { UsageError } from "../errors.ts";
import type { Out } from "../output.ts";
import { egressIpsOf } from "../stack.ts";
import { verbOptions } from "./table.ts";

/** "No such record" answers are empty lists; a timeout or SERVFAIL stays an error (SPF's temperror). */
async function records<T>(run: () => Promise<T[]>): Promise<T[]> {
  try {
    return await run();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENODATA" || code === "ENOTFOUND") return [];
    throw error;
  }
}

function doctorDns(servers: string[] | undefined, timeoutMs: number): DoctorDns {
  const r = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (servers) r.setServers(servers);
  return {
    txt: (name) => records(async () => (await r.resolveTxt(name)).map((parts) => parts.join(""))),
    a: (name) => records(() => r.resolve4(name)),
    aaaa: (name) => records(() => r.resolve6(name)),
    mx: (name) =>
      records(async () =>
        (await r.resolveMx(name)).sort((x, y) => x.priority - y.priority).map((m) => m.exchange),
      ),
    ptr: (ip) => records(() => r.reverse(ip)),
  };
}

function connectWithin(timeoutMs: number) {
  return (host: string, port: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = tcpConnect({ host, port, timeout: timeoutMs });
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("timeout", () => {
        socket.destroy();
        reject(new Error(`no answer within ${timeoutMs / 1000} s`));
      });
      socket.once("error", (e) => reject(e));
    });
}

function ipList(text: string): string[] {
  const ips = list(text);
  for (const ip of ips)
    if (!isIpv4(ip) && !isIpv6(ip))
      throw new UsageError(`--egress-ip: "${ip}" is not an IP address; use e.g. 203.0.113.5`);
  return ips;
}

function certificateOf(ctx: CliContext, file: string | undefined): DoctorEnv["certificate"] {
  return async () => {
    const path =
      file ??
      (ctx.kind === "local"
        ? (process.env.RELAY_TLS_CERT ?? (ctx.home ? join(ctx.home.tls, "cert.pem") : undefined))
        : undefined);
    if (path !== undefined) {
      if (!existsSync(path)) {
        if (file !== undefined) throw new UsageError(`--tls-cert: "${file}" does not exist`);
        return undefined;
      }
      return { source: path, pem: await readFile(path, "utf8") };
    }
    // AWS: the listener reads its certificate from the secret "<prefix>tls" as {"cert","key"}.
    const text = await ctx.secrets.get("tls").catch((e: Error) => {
      if (/not found|ResourceNotFound/i.test(`${e.name} ${e.message}`)) return undefined;
      throw e;
    });
    if (text === undefined) return undefined;
    return { source: "secret <prefix>tls", pem: (JSON.parse(text) as { cert: string }).cert };
  };
}

export async function doctorCommand(ctx: CliContext, out: Out, args: string[]): Promise<number> {
  const flags = parseFlags("doctor", args, verbOptions("doctor", ""));
  out.json = flags.json === true;
  const timeoutMs = int("timeout", str(flags, "timeout") ?? "5") * 1000;
  const servers = str(flags, "dns-servers");
  const set = buildRecordSet(await ctx.records.list());
  const given = str(flags, "egress-ip");
  const fromStack = ctx.stackOutputs ? egressIpsOf(ctx.stackOutputs) : [];
  const egressIps =
    given !== undefined ? ipList(given) : [...new Set([...fromStack, ...set.settings.egressIps])];
  const env: DoctorEnv = {
    runtime: ctx.kind,
    set,
    egressIps,
    egressSource:
      ctx.kind === "aws"
        ? "pass --stack NAME (its EgressIp outputs) or --egress-ip"
        : "pass --egress-ip, or set them once: relay transport-config set --egress-ips 203.0.113.5",
    dns: doctorDns(servers ? list(servers) : undefined, timeoutMs),
    probeDomain: str(flags, "probe-domain") ?? "gmail.com",
    connect: connectWithin(timeoutMs),
    certificate: certificateOf(ctx, str(flags, "tls-cert")),
    secrets: ctx.secrets,
    // Unknown (undefined) when the queues cannot be opened: no relay has run in RELAY_HOME yet, or
    // --aws without the dead-letter queue URLs. The check says so and how to give them.
    poisonCount: async () => {
      try {
        return await (await ctx.queues()).poisonCount();
      } catch {
        return undefined;
      }
    },
  };
  const findings: Finding[] = [];
  for (const check of CHECKS) {
    try {
      findings.push(...(await check.run(env)));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      findings.push({
        check: check.id,
        subject: check.title,
        status: "WARN",
        detail: `could not check: ${(error as Error).message}`,
        fix: "run again; check --dns-servers and the network",
      });
    }
  }
  const count = (s: Finding["status"]) => findings.filter((f) => f.status === s).length;
  const summary = { ok: count("OK"), warn: count("WARN"), fail: count("FAIL") };
  if (out.json) {
    out.write(`${JSON.stringify({ ok: summary.fail === 0, summary, findings }, null, 2)}\n`);
  } else {
    const w = Math.max(...findings.map((f) => f.check.length));
    const s = Math.max(...findings.map((f) => f.subject.length));
    for (const f of findings) {
      out.write(
        `${f.status.padEnd(4)}  ${f.check.padEnd(w)}  ${f.subject.padEnd(s)}  ${f.detail}\n`,
      );
      if (f.fix) out.write(`${" ".repeat(w + s + 10)}fix: ${f.fix}\n`);
    }
    out.write(`${summary.ok} OK, ${summary.warn} WARN, ${summary.fail} FAIL\n`);
  }
  return summary.fail === 0 ? 0 : 1;
}
