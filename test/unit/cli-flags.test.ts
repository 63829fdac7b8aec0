// The CLI's record flags come from the record schemas: every field has a flag, typed, with its default; the names of earlier releases stay.
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { fieldFlags, RECORD_SPECS } from "#cli/commands/record-specs.ts";
import { COMMANDS } from "#cli/commands/table.ts";
import { parseRetrySchedule, TRANSPORT_FLAGS } from "#cli/commands/transport-config.ts";
import { deriveFlags, META_FIELDS } from "#cli/record-flags.ts";
import { RECORD_SCHEMAS } from "#core/records/index.ts";
import { ReceiveConnectorSchema } from "#core/records/receive-connector.ts";
import { TransportSettingsSchema } from "#core/records/transport-settings.ts";

/** Fields that deliberately have no flag of their own, and why (asserted exactly: no silent gaps). */
const NO_FLAG: Record<string, string[]> = {
  SmtpUser: ["passwordHash"], // from RELAY_PASSWORD or a prompt, never the command line
};

describe("every schema field has a flag", () => {
  for (const [noun, spec] of Object.entries(RECORD_SPECS)) {
    test(`${noun}: ${spec.kind}`, () => {
      const fields = Object.keys(RECORD_SCHEMAS[spec.kind].shape).filter(
        (f) => !META_FIELDS.includes(f),
      );
      const flagged = fieldFlags(spec).map((f) => f.field);
      expect(fields.filter((f) => !flagged.includes(f))).toEqual(NO_FLAG[spec.kind] ?? []);
      // ...and --help and completion list each one for new and set.
      for (const verb of ["new", "set"]) {
        const listed = COMMANDS[noun]?.verbs[verb]?.flags.map((f) => f.flag);
        for (const f of fieldFlags(spec)) expect(listed).toContain(f.flag);
      }
    });
  }

  test("transport-config set: TransportSettings", () => {
    const fields = Object.keys(TransportSettingsSchema.shape).filter(
      (f) => !META_FIELDS.includes(f) && f !== "name",
    );
    expect(TRANSPORT_FLAGS.map((f) => f.field).sort()).toEqual(fields.sort());
    expect(COMMANDS["transport-config"]?.verbs.set?.flags.map((f) => f.flag)).toEqual(
      TRANSPORT_FLAGS.map((f) => f.flag),
    );
  });

  test("a field added to a schema gets a kebab-case flag of its type with no CLI change", () => {
    const grown = ReceiveConnectorSchema.extend({
      messageRateLimit: z.number().int().positive().optional(),
      messageRateSource: z.enum(["None", "User", "IPAddress", "All"]).default("IPAddress"),
    });
    const flags = deriveFlags(grown);
    expect(flags.find((f) => f.field === "messageRateLimit")).toMatchObject({
      flag: "message-rate-limit",
      type: "int",
      required: false,
    });
    const source = flags.find((f) => f.field === "messageRateSource");
    expect(source).toMatchObject({ flag: "message-rate-source", default: "IPAddress" });
    expect(source?.choices).toEqual(["None", "User", "IPAddress", "All"]);
    expect(source?.parse("ipaddress")).toBe("IPAddress");
  });
});

describe("flag names and values", () => {
  test("the flag names of earlier releases are kept", () => {
    const names = (noun: string) => fieldFlags(RECORD_SPECS[noun] as never).map((f) => f.flag);
    expect(names("send-connector")).toEqual(
      expect.arrayContaining(
        "name enabled usage address-spaces dns-routing-enabled smart-hosts port dns-servers fqdn require-tls tls-auth-level tls-domain auth-mechanism max-message-size source-listeners sender-address-spaces protocol-logging comment".split(
          " ",
        ),
      ),
    );
    expect(names("receive-connector")).toEqual(
      expect.arrayContaining(
        "name enabled bindings remote-ip-ranges auth-mechanisms permission-groups granted-permissions require-tls implicit-tls banner fqdn max-message-size max-recipients-per-message max-protocol-errors max-inbound-connection max-inbound-connection-per-source max-hop-count tarpit-interval greeting-delay connection-timeout connection-inactivity-timeout protocol-logging comment".split(
          " ",
        ),
      ),
    );
    expect(names("accepted-domain")).toEqual(expect.arrayContaining(["domain", "type", "comment"]));
    expect(names("user")).toEqual(
      expect.arrayContaining(["name", "enabled", "allowed-senders", "comment"]),
    );
  });

  test("types and defaults come from the schema: sizes, lists, booleans, enums, durations", () => {
    const rc = fieldFlags(RECORD_SPECS["receive-connector"] as never);
    const by = (flag: string) => rc.find((f) => f.flag === flag);
    expect(by("max-message-size")).toMatchObject({ type: "size", default: "36MB" });
    expect(by("max-message-size")?.parse("10MB")).toBe(10 * 1024 * 1024);
    expect(by("enabled")).toMatchObject({ type: "bool", default: "true" });
    expect(by("auth-mechanisms")).toMatchObject({
      type: "list",
      default: "Tls,BasicAuthRequireTls",
    });
    expect(by("auth-mechanisms")?.parse("tls, basicauth")).toEqual(["Tls", "BasicAuth"]);
    expect(by("tarpit-interval")).toMatchObject({ type: "number", default: "5" });
    expect(by("bindings")).toMatchObject({ type: "list", required: true });
    const expiry = TRANSPORT_FLAGS.find((f) => f.field === "messageExpirationTimeoutSeconds");
    expect(expiry).toMatchObject({ default: "2d" });
    expect(expiry?.parse("4h")).toBe(14_400);
    expect(parseRetrySchedule("1mx4, 5mx6, 15m", "retry-schedule")).toEqual([
      { intervalSeconds: 60, count: 4 },
      { intervalSeconds: 300, count: 6 },
      { intervalSeconds: 900, count: 1 },
    ]);
  });

  test("a value that does not convert is refused naming the flag and the field", () => {
    const sc = fieldFlags(RECORD_SPECS["send-connector"] as never);
    expect(() => sc.find((f) => f.flag === "port")?.parse("smtp")).toThrow(
      '--port (port): "smtp" is not a whole number',
    );
    expect(() => sc.find((f) => f.flag === "max-message-size")?.parse("big")).toThrow(
      /^--max-message-size \(maxMessageSize\): "big" is not a size/,
    );
    expect(() => TRANSPORT_FLAGS.find((f) => f.flag === "retry-schedule")?.parse("soon")).toThrow(
      /^--retry-schedule \(retrySchedule\): "soon" is not a duration/,
    );
  });
});
