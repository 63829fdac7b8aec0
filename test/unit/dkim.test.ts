// DKIM in core: the DNS records to publish, which config signs, signing with mailauth and verifying it, broken keys, doctor checks.
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { describe, expect, test } from "vitest";
import { mailauthDkim } from "#adapters/dkim/mailauth-signer.ts";
import { MemorySecretStore } from "#adapters/memory/secret-store.ts";
import { dkimDnsRecords, splitTxt } from "#core/dkim/dns-record.ts";
import { dkimProblems } from "#core/dkim/doctor.ts";
import { generateDkimKey, newSelector } from "#core/dkim/keys.ts";
import { fromDomain, signingConfigFor } from "#core/dkim/select.ts";
import type { DkimKeyType, DkimSigningConfig } from "#core/records/dkim-signing-config.ts";
import { buildRecordSet } from "#core/records/record-set.ts";
import { signMessage } from "#core/usecases/dkim.ts";

const RAW = Buffer.from(
  "From: App <app@contoso.com>\r\nTo: <user@example.net>\r\nSubject: Invoice\r\nDate: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <1@contoso.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello.\r\n",
);

function config(
  domain: string,
  types: DkimKeyType[],
  secrets: MemorySecretStore,
): DkimSigningConfig {
  const keys = types.map((keyType) => {
    const pair = generateDkimKey(keyType, 1024);
    const selector = newSelector(new Date("2025-06-02T00:00:00Z"), keyType, []);
    const secretName = `dkim/${domain}/${selector}`;
    void secrets.set(secretName, pair.privateKeyPem);
    return { selector, keyType, publicKey: pair.publicKey, secretName };
  });
  return { kind: "DkimSigningConfig", domain, enabled: true, keys, retiredKeys: [] };
}

function firstKey(c: DkimSigningConfig) {
  const key = c.keys[0];
  if (!key) throw new Error("no key");
  return key;
}

/** A resolver over the records the config asks to publish, as node:dns resolveTxt answers. */
function resolverFor(configs: DkimSigningConfig[]) {
  const zone = new Map(
    configs
      .flatMap(dkimDnsRecords)
      .map((r): [string, string[][]] => [r.name, [splitTxt(r.unsplit)]]),
  );
  return async (name: string) => {
    const hit = zone.get(name);
    if (!hit) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    return hit;
  };
}

function recordingMetrics() {
  const counts: { name: string; dimensions?: Record<string, string> }[] = [];
  return {
    counts,
    count: (name: string, dimensions?: Record<string, string>) =>
      counts.push({ name, ...(dimensions ? { dimensions } : {}) }),
  };
}

describe("DNS records", () => {
  test("a 2048-bit RSA key is split into quoted strings of at most 255 characters that join to the record", () => {
    const pair = generateDkimKey("rsa", 2048);
    const [record] = dkimDnsRecords({
      kind: "DkimSigningConfig",
      domain: "contoso.com",
      enabled: true,
      keys: [{ selector: "s1", keyType: "rsa", publicKey: pair.publicKey, secretName: "x" }],
      retiredKeys: [],
    });
    expect(record?.name).toBe("s1._domainkey.contoso.com");
    expect(record?.unsplit).toBe(`v=DKIM1; k=rsa; p=${pair.publicKey}`);
    const strings = [...(record?.value ?? "").matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? "");
    expect(strings.length).toBeGreaterThan(1);
    expect(strings.every((s) => s.length <= 255)).toBe(true);
    expect(strings.join("")).toBe(record?.unsplit);
  });
});

describe("which config signs", () => {
  const secrets = new MemorySecretStore();
  const contoso = { ...config("contoso.com", ["rsa"], secrets) };
  const off = { ...config("fabrikam.com", ["rsa"], secrets), enabled: false };
  test.each([
    ["App <app@contoso.com>", "contoso.com"],
    ["news@mail.news.contoso.com", "contoso.com"],
    ['"Smith, J" <j@Contoso.COM>', "contoso.com"],
    ["a@fabrikam.com", undefined],
    ["a@notcontoso.com", undefined],
    [undefined, undefined],
  ])("From %s is signed by %s (relaxed alignment: nearest parent)", (from, domain) => {
    expect(signingConfigFor(fromDomain(from), [contoso, off])?.domain).toBe(domain);
  });
});

describe("signMessage", () => {
  test("rsa and ed25519 signatures verify; signing again gives the same bytes", async () => {
    const secrets = new MemorySecretStore();
    const set = buildRecordSet([config("contoso.com", ["rsa", "ed25519"], secrets)]);
    const deps = { dkim: mailauthDkim(secrets) };
    const input = {
      messageId: "m1",
      receivedAt: "2025-06-02T10:00:00.000Z",
      read: async () => RAW,
    };
    const first = await signMessage(deps, set, input);
    const again = await signMessage(deps, set, input);
    if (!first.signed || !again.signed) throw new Error("not signed");
    expect(again.signatures).toBe(first.signatures);
    expect(first.signatures).toMatch(/c=relaxed\/relaxed/);
    expect(first.signatures).not.toMatch(/\bl=/);
    const result = await dkimVerify(Buffer.concat([Buffer.from(first.signatures), RAW]), {
      resolver: resolverFor(set.dkimSigningConfigs) as never,
    });
    expect(result.results.map((r) => [r.signingDomain, r.status.result, r.algo])).toEqual([
      ["contoso.com", "pass", "rsa-sha256"],
      ["contoso.com", "pass", "ed25519-sha256"],
    ]);
    const h = /h=([^;]+);/.exec(first.signatures.replace(/\r\n\s+/g, ""))?.[1] ?? "";
    expect(h.toLowerCase().split(/\s*:\s*/)).toEqual(
      expect.arrayContaining([
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
      ]),
    );
  });

  test("a damaged key or a missing secret never blocks mail: unsigned, logged and counted", async () => {
    const secrets = new MemorySecretStore();
    const c = config("contoso.com", ["rsa"], secrets);
    await secrets.set(
      firstKey(c).secretName,
      "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
    );
    const set = buildRecordSet([
      c,
      { ...config("fabrikam.com", ["rsa"], new MemorySecretStore()) },
    ]);
    const metrics = recordingMetrics();
    const warnings: Record<string, unknown>[] = [];
    const log = {
      info() {},
      error() {},
      warn: (_m: string, f?: Record<string, unknown>) => void warnings.push(f ?? {}),
    };
    const deps = { dkim: mailauthDkim(secrets), metrics, log };
    const damaged = await signMessage(deps, set, {
      messageId: "m2",
      receivedAt: new Date().toISOString(),
      read: async () => RAW,
    });
    expect(damaged.signed).toBe(false);
    const missing = await signMessage(deps, set, {
      messageId: "m3",
      receivedAt: new Date().toISOString(),
      read: async () => Buffer.from(RAW.toString().replace("app@contoso.com", "app@fabrikam.com")),
    });
    expect(missing).toMatchObject({ signed: false, domain: "fabrikam.com" });
    expect(metrics.counts).toEqual([
      { name: "DkimSignFailed", dimensions: { domain: "contoso.com" } },
      { name: "DkimSignFailed", dimensions: { domain: "fabrikam.com" } },
    ]);
    expect(warnings[1]).toMatchObject({ messageId: "m3", outcome: "sent unsigned" });
    expect(String(warnings[1]?.failures)).toMatch(
      /secret dkim\/fabrikam\.com\/.* could not be read/,
    );
  });
});

describe("doctor", () => {
  test("reports a missing secret, a key that does not match, and a record that is absent or stale", async () => {
    const secrets = new MemorySecretStore();
    const good = { ...config("contoso.com", ["rsa"], secrets) };
    const lost = { ...config("fabrikam.com", ["rsa"], secrets) };
    await secrets.delete(firstKey(lost).secretName);
    const swapped = { ...config("tailspin.com", ["ed25519"], secrets) };
    await secrets.set(firstKey(swapped).secretName, generateDkimKey("ed25519").privateKeyPem);
    const stale = {
      ...good,
      domain: "stale.com",
      keys: [firstKey(good)],
    };
    const published = resolverFor([good, lost, swapped]);
    const lookup = async (name: string) => {
      if (name.endsWith("stale.com"))
        return [["v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAold"]];
      return published(name);
    };
    const problems = await dkimProblems([good, lost, swapped, stale], secrets, lookup);
    expect(problems.map((p) => [p.domain, p.check])).toEqual([
      ["fabrikam.com", "secret"],
      ["tailspin.com", "secret"],
      ["stale.com", "dns"],
    ]);
    expect(problems[2]?.message).toMatch(/publishes a different public key/);
    const unpublished = await dkimProblems([good], secrets, async () => {
      throw new Error("queryTxt ENOTFOUND");
    });
    expect(unpublished[0]?.message).toMatch(
      /no TXT record at relay20250602\._domainkey\.contoso\.com/,
    );
  });
});
