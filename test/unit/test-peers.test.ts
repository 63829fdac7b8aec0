// test/peers.sh's decisions (nothing to do, install through apt-get as root or via sudo, or stop with one line) on a made-up PATH.
//
// apt-get, sudo, id and the peers are stand-in scripts here: a test cannot install system
// packages. The real install is npm test's own pretest, which runs this script for real.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";

const SCRIPT = join(import.meta.dirname, "../peers.sh");
const SSL_PACKAGES = "libnet-ssleay-perl libio-socket-ssl-perl";
let dir: string;
let bin: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "test-peers-"));
  bin = join(dir, "bin");
  spawnSync("mkdir", [bin]);
  // The few real tools the script itself uses; everything else is absent unless a test adds it.
  for (const tool of ["env", "cat", "rm"]) {
    const real = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    symlinkSync(real, join(bin, tool));
  }
  // smtp-source is always present: the script also looks in /usr/sbin, which this machine may fill.
  fake("smtp-source", "exit 0");
  fake("chromium", "exit 0");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fake(name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

/** apt-get and debconf-set-selections that record what they were asked, each call one line. */
function fakeApt(): void {
  fake("apt-get", `echo "apt-get $*" >> "${dir}/calls"`);
  fake("debconf-set-selections", `echo "debconf $(cat)" >> "${dir}/calls"`);
}
const calls = () => readFileSync(join(dir, "calls"), "utf8").trim().split("\n");

function runScript() {
  const r = spawnSync("/bin/sh", [SCRIPT], {
    env: { PATH: bin, TMPDIR: dir },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("with swaks, Net::SSLeay and smtp-source present it does nothing and says nothing", () => {
  fake("swaks", "exit 0");
  fake("perl", "exit 0");
  fakeApt();
  expect(runScript()).toEqual({ code: 0, stdout: "", stderr: "" });
  expect(() => calls()).toThrow(/ENOENT/);
});

test("as root it installs exactly the missing packages with apt-get, Postfix unconfigured", () => {
  fake("id", "echo 0");
  fake("perl", "exit 2"); // swaks absent too
  fakeApt();
  const r = runScript();
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(`installing the test peers swaks ${SSL_PACKAGES} with apt-get`);
  expect(calls()).toEqual([
    "debconf postfix postfix/main_mailer_type select No configuration",
    "apt-get update -qq",
    `apt-get install -y -qq --no-install-recommends swaks ${SSL_PACKAGES}`,
  ]);
});

test("without chromium it installs Debian's chromium for the console's browser tests", () => {
  fake("id", "echo 0");
  fake("swaks", "exit 0");
  fake("perl", "exit 0");
  rmSync(join(bin, "chromium"));
  fakeApt();
  expect(runScript().code).toBe(0);
  expect(calls()).toContain("apt-get install -y -qq --no-install-recommends chromium");
});

test("as a user with sudo it installs through sudo", () => {
  fake("id", "echo 1000");
  fake("swaks", "exit 0");
  fake("perl", "exit 2");
  fake("sudo", `echo "sudo $1" >> "${dir}/calls"; [ "$1" = -n ] && shift; "$@"`);
  fakeApt();
  expect(runScript().code).toBe(0);
  expect(calls()).toEqual([
    "sudo -n",
    "sudo debconf-set-selections",
    "debconf postfix postfix/main_mailer_type select No configuration",
    "sudo apt-get",
    "apt-get update -qq",
    "sudo env",
    `apt-get install -y -qq --no-install-recommends ${SSL_PACKAGES}`,
  ]);
});

test("as a user without sudo it stops at once with one line naming the packages and the command", () => {
  fake("id", "echo 1000");
  fake("perl", "exit 2");
  fakeApt();
  const r = runScript();
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(
    `npm test: missing test peers (not root and no usable sudo); install them and rerun: sudo apt-get install --no-install-recommends swaks ${SSL_PACKAGES}\n`,
  );
  expect(() => calls()).toThrow(/ENOENT/);
});

test("without apt-get it stops at once with one line, even as root", () => {
  fake("id", "echo 0");
  fake("swaks", "exit 0");
  fake("perl", "exit 2");
  const r = runScript();
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split("\n")).toEqual([
    `npm test: missing test peers (no apt-get here); install them and rerun: sudo apt-get install --no-install-recommends ${SSL_PACKAGES}`,
  ]);
});

test("a failing apt-get shows its output and fails the test command", () => {
  fake("id", "echo 0");
  fake("swaks", "exit 0");
  fake("perl", "exit 2");
  fake("debconf-set-selections", "cat > /dev/null");
  fake("apt-get", 'echo "E: Unable to locate package $7"; exit 100');
  const r = runScript();
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("E: Unable to locate package");
  expect(r.stderr).toContain("apt-get could not install");
});
