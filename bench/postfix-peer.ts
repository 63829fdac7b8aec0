// Postfix as the benchmark's peer relay: an instance of its own (alternate config and queue directory), never touching /etc/postfix.
import { execFile } from "node:child_process";
import { chmod, chown, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { waitForPort } from "./smtp-tools.ts";

const run = promisify(execFile);

export interface PostfixPeerOptions {
  /** Empty directory for config, queue, data and log; it must be reachable by the postfix user. */
  dir: string;
  /** Port Postfix's smtpd listens on (127.0.0.1). */
  port: number;
  /** Where Postfix relays everything: "127.0.0.1:PORT" (the sink). */
  relayHost: string;
  /** Outbound parallelism towards the relay host (Postfix's default is also 20). */
  concurrency?: number;
}

export interface PostfixPeer {
  readonly port: number;
  readonly version: string;
  readonly configDir: string;
  /** Messages still in Postfix's queue (incoming, active, deferred, hold, maildrop). */
  queued(): Promise<number>;
  /** PID of the master process (its children's CPU is counted through it). */
  masterPid(): Promise<number>;
  stop(): Promise<void>;
}

/*
 * The same relay-only setup as a site would run in front of a smart host: no local delivery,
 * mynetworks may relay, every message to the relay host, a log file like any MTA keeps, and the
 * queue on the same file system as the connector-relay spool. `postfix -c DIR` runs a second
 * instance when DIR's main.cf names its own queue and data directories, and `maillog_file` sits
 * under one of `maillog_file_prefixes` (otherwise `postfix check` fails without a word on a
 * machine with no syslog).
 */
function mainCf(o: PostfixPeerOptions, d: Dirs): string {
  return `# connector-relay bench peer (written by bench/postfix-peer.ts)
compatibility_level = 3.6
queue_directory = ${d.queue}
data_directory = ${d.data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = bench-peer.localdomain
mydomain = localdomain
myorigin = $myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
local_recipient_maps =
local_transport = error:local delivery disabled
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
relay_domains =
relayhost = [${o.relayHost.split(":")[0]}]:${o.relayHost.split(":")[1]}
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtp_dns_support_level = disabled
default_destination_concurrency_limit = ${o.concurrency ?? 20}
default_process_limit = 100
biff = no
append_dot_mydomain = no
readme_directory = no
maillog_file_prefixes = ${o.dir}
maillog_file = ${d.log}
`;
}

/** No chroot, smtpd on the bench port only; the rest is Debian's stock service list. */
function masterCf(o: PostfixPeerOptions): string {
  return `# connector-relay bench peer
127.0.0.1:${o.port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;
}

interface Dirs {
  conf: string;
  queue: string;
  data: string;
  log: string;
}

const QUEUES = ["maildrop", "incoming", "active", "deferred", "hold"];

async function postfix(configDir: string, command: string): Promise<void> {
  try {
    await run("postfix", ["-c", configDir, command]);
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`postfix -c ${configDir} ${command} failed: ${e.stderr || e.message}`);
  }
}

export async function startPostfixPeer(o: PostfixPeerOptions): Promise<PostfixPeer> {
  if (process.getuid?.() !== 0)
    throw new Error(
      `the Postfix peer needs root (postfix master runs as root); user is ${userInfo().username}`,
    );
  const d: Dirs = {
    conf: join(o.dir, "conf"),
    queue: join(o.dir, "queue"),
    data: join(o.dir, "data"),
    log: join(o.dir, "maillog"),
  };
  for (const p of [d.conf, d.queue, d.data]) await mkdir(p, { recursive: true });
  // Postfix's daemons drop to the postfix user: they must reach the directories.
  await chmod(o.dir, 0o755);
  const { stdout: ids } = await run("id", ["-u", "postfix"]);
  await chown(d.data, Number(ids.trim()), -1);
  await writeFile(join(d.conf, "main.cf"), mainCf(o, d));
  await writeFile(join(d.conf, "master.cf"), masterCf(o));
  const { stdout: version } = await run("postconf", ["-c", d.conf, "-h", "mail_version"]);
  await postfix(d.conf, "check");
  await postfix(d.conf, "start").catch(async (error: Error) => {
    // Postfix says why in its log, not on stderr.
    const tail = (await readFile(d.log, "utf8").catch(() => "")).split("\n").slice(-5).join("\n");
    throw new Error(`${error.message}\n${tail}`);
  });
  await waitForPort(o.port, 10_000);

  const masterPid = async () =>
    Number((await readFile(join(d.queue, "pid", "master.pid"), "utf8")).trim());
  return {
    port: o.port,
    version: version.trim(),
    configDir: d.conf,
    masterPid,
    async queued() {
      let n = 0;
      for (const q of QUEUES) n += await countFiles(join(d.queue, q));
      return n;
    },
    async stop() {
      const pid = await masterPid().catch(() => 0);
      await postfix(d.conf, "stop").catch(() => {});
      for (let i = 0; i < 100 && pid && alive(pid); i++)
        await new Promise((r) => setTimeout(r, 100));
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Queue files live in hashed subdirectories (active/A/…) or flat, depending on the queue. */
async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) n += await countFiles(join(dir, e.name));
    else n++;
  }
  return n;
}
