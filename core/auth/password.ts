// SMTP user passwords: scrypt hashes in PHC form, timing-safe verification, and AUTH against user records.
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { PASSWORD_HASH, type SmtpUser } from "../records/smtp-user.ts";

/** N = 2^15, r = 8, p = 1: OWASP's scrypt baseline, about 32 MiB and tens of ms per check. */
const DEFAULT = { ln: 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/**
 * Bounds on parameters read from a stored hash, so a mistyped or hostile record cannot make one AUTH
 * allocate gigabytes or run for minutes; a hash outside them simply does not verify.
 */
const LIMITS = { ln: [10, 20], r: [1, 32], p: [1, 16], key: [16, 64], salt: [8, 64] } as const;

const within = (v: number, [lo, hi]: readonly [number, number]) => v >= lo && v <= hi;

function derive(
  password: string,
  salt: Buffer,
  keyLength: number,
  o: ScryptOptions,
): Promise<Buffer> {
  const N = o.N ?? 2 ** DEFAULT.ln;
  const r = o.r ?? DEFAULT.r;
  const p = o.p ?? DEFAULT.p;
  // Node's default maxmem (32 MiB) is exactly what N=2^15, r=8 needs and is refused; scrypt uses
  // 128·N·r for V plus 128·r·p for B, so allow twice that.
  const maxmem = 256 * N * r + 256 * r * p;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, keyLength, { N, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

const b64 = (b: Buffer) => b.toString("base64").replace(/=+$/, "");

/** `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` with a fresh 16-byte salt and a 32-byte key. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, {
    N: 2 ** DEFAULT.ln,
    r: DEFAULT.r,
    p: DEFAULT.p,
  });
  return `$scrypt$ln=${DEFAULT.ln},r=${DEFAULT.r},p=${DEFAULT.p}$${b64(salt)}$${b64(key)}`;
}

/** True when the password matches. Parameters come from the hash; a malformed hash is false, never a throw. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const m = PASSWORD_HASH.exec(hash);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [saltText, keyText] = hash.split("$").slice(-2) as [string, string];
  const salt = Buffer.from(saltText, "base64");
  const expected = Buffer.from(keyText, "base64");
  if (!within(ln, LIMITS.ln) || !within(r, LIMITS.r) || !within(p, LIMITS.p)) return false;
  if (!within(salt.length, LIMITS.salt) || !within(expected.length, LIMITS.key)) return false;
  try {
    const actual = await derive(password, salt, expected.length, { N: 2 ** ln, r, p });
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

/** A hash of a random password, made once, to spend a real verification's time on unknown names. */
let dummyHash: Promise<string> | undefined;

/**
 * The enabled user with this name (case-insensitive) whose password matches. An unknown or
 * ambiguous name (two records differing only in case) still costs one scrypt run against a dummy
 * hash, and a disabled user's hash is still checked, so the time taken does not tell an attacker
 * which names exist.
 */
export async function authenticateUser(
  users: SmtpUser[],
  username: string,
  password: string,
): Promise<SmtpUser | undefined> {
  const name = username.toLowerCase();
  const matches = users.filter((u) => u.name.toLowerCase() === name);
  const user = matches.length === 1 ? matches[0] : undefined;
  if (!user) {
    dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
    await verifyPassword(password, await dummyHash);
    return undefined;
  }
  const ok = await verifyPassword(password, user.passwordHash);
  return ok && user.enabled ? user : undefined;
}
