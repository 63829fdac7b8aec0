// Reading the values ConvertTo-Json writes for Exchange objects, in a remote session's strings and a local session's objects and numbers.
import { expect, test } from "vitest";
import { AUTH_MECHANISMS } from "#cli/import/model.ts";
import { addressSpace, binding, ipRange, smartHost } from "#cli/import/network-values.ts";
import { parseExport } from "#cli/import/read.ts";
import { date, flags, limit, size, timespan, ValueError } from "#cli/import/values.ts";

test.each([
  ["36 MB (37,748,736 bytes)", 37_748_736],
  ["35 MB (36,700,160 bytes)", 36_700_160],
  ["256 KB (262,144 bytes)", 262_144],
  ["10MB", 10 * 1024 * 1024],
  [1048576, 1_048_576],
  ["Unlimited", "Unlimited"],
  [{ IsUnlimited: false, Value: "25 MB (26,214,400 bytes)" }, 26_214_400],
  [{ IsUnlimited: true, Value: null }, "Unlimited"],
])("size %j", (input, bytes) => {
  expect(size(input)).toBe(bytes);
});

test.each([
  ["1.00:00:00", 86_400],
  ["2.00:00:00", 172_800],
  ["00:05:00", 300],
  ["00:00:05", 5],
  ["04:00:00", 14_400],
  ["30.00:00:00", 2_592_000],
  [{ Ticks: 50_000_000, TotalSeconds: 5 }, 5],
  [{ Ticks: 6_000_000_000 }, 600],
])("time span %j", (input, seconds) => {
  expect(timespan(input)).toBe(seconds);
});

test.each([["5 minutes"], ["25:00:00"], ["-00:05:00"], [{ Hours: 1 }]])(
  "time span %j is refused with the value named",
  (input) => {
    expect(() => timespan(input)).toThrow(ValueError);
  },
);

test.each([
  ["Tls, BasicAuth, BasicAuthRequireTLS", ["Tls", "BasicAuth", "BasicAuthRequireTLS"]],
  [
    ["Tls", "ExternalAuthoritative"],
    ["Tls", "ExternalAuthoritative"],
  ],
  [{ value: ["Tls"], Count: 1 }, ["Tls"]],
  ["None", []],
  [13, ["Tls", "BasicAuth", "BasicAuthRequireTLS"]],
  [0, []],
])("flags %j", (input, names) => {
  expect(flags(input, AUTH_MECHANISMS)).toEqual(names);
});

test("a flag Exchange does not have is refused", () => {
  expect(() => flags("Tls, Kerberos", AUTH_MECHANISMS)).toThrow(/"Kerberos" is not one of/);
  expect(() => flags(128, AUTH_MECHANISMS)).toThrow(ValueError);
});

test("limits: numbers, Unlimited and Unlimited<int> objects", () => {
  expect(limit("Unlimited")).toBe("Unlimited");
  expect(limit(5)).toBe(5);
  expect(limit("500")).toBe(500);
  expect(limit({ IsUnlimited: false, Value: 20 })).toBe(20);
});

test("dates: PowerShell's /Date(ms)/ and ISO 8601", () => {
  expect(date("/Date(1717171717000)/")?.toISOString()).toBe("2024-05-31T16:08:37.000Z");
  expect(date("2024-05-31T16:08:37Z")?.toISOString()).toBe("2024-05-31T16:08:37.000Z");
});

test.each([
  ["SMTP:*;1", { type: "SMTP", domain: "*", cost: 1 }],
  ["smtp:contoso.com;10", { type: "SMTP", domain: "contoso.com", cost: 10 }],
  ["SMTP:*.fabrikam.com;5", { type: "SMTP", domain: "*.fabrikam.com", cost: 5 }],
  ["X400:c=US;a= ;p=Fabrikam;5", { type: "X400", domain: "c=US;a= ;p=Fabrikam", cost: 5 }],
  [
    { Type: "SMTP", Domain: { Domain: "tailspintoys.com", IncludeSubDomains: true }, Cost: 3 },
    { type: "SMTP", domain: "*.tailspintoys.com", cost: 3 },
  ],
  [
    { AddressSpace: "SMTP:contoso.com;2", Cost: 7 },
    { type: "SMTP", domain: "contoso.com", cost: 7 },
  ],
])("address space %j", (input, expected) => {
  expect(addressSpace(input)).toEqual(expected);
});

test.each([
  ["0.0.0.0:25", "0.0.0.0:25"],
  ["[::]:587", "[::]:587"],
  [{ Address: "10.0.0.4", Port: 25 }, "10.0.0.4:25"],
  [{ Address: { IPAddressToString: "::" }, Port: 2525 }, "[::]:2525"],
])("binding %j", (input, expected) => {
  expect(binding(input)).toBe(expected);
});

test("a binding without a port is refused", () => {
  expect(() => binding("0.0.0.0")).toThrow(/not a binding/);
});

test.each([
  ["192.168.5.10", "192.168.5.10"],
  ["10.1.0.0/16", "10.1.0.0/16"],
  ["192.168.5.20 - 192.168.5.30", "192.168.5.20-192.168.5.30"],
  [{ Expression: "10.20.0.0/24", LowerBound: "10.20.0.0" }, "10.20.0.0/24"],
  [
    { LowerBound: "10.20.0.0", UpperBound: "10.20.0.255", CIDRLength: 24, RangeFormat: "CIDR" },
    "10.20.0.0/24",
  ],
  [
    {
      LowerBound: { IPAddressToString: "10.30.0.7" },
      UpperBound: { IPAddressToString: "10.30.0.7" },
    },
    "10.30.0.7",
  ],
  [{ LowerBound: "10.0.0.1", UpperBound: "10.0.0.9", RangeFormat: "LoHi" }, "10.0.0.1-10.0.0.9"],
])("remote IP range %j", (input, expected) => {
  expect(ipRange(input)).toBe(expected);
});

test("smart hosts lose Exchange's brackets around IPv4 addresses", () => {
  expect(smartHost("[192.168.10.5]")).toBe("192.168.10.5");
  expect(smartHost("Smtp.Fabrikam.NET")).toBe("smtp.fabrikam.net");
  expect(smartHost({ IsIPAddress: false, Domain: { HostnameString: "relay.contoso.com" } })).toBe(
    "relay.contoso.com",
  );
  expect(() => smartHost("not a host!")).toThrow(ValueError);
});

test("an export is one object or a list; a remote session's { value } is unwrapped", () => {
  expect(parseExport("a.json", '{"Name":"x"}')).toEqual([{ Name: "x" }]);
  expect(parseExport("a.json", '[{"Name":"x"},{"Name":"y"}]')).toHaveLength(2);
  expect(parseExport("a.json", '{"value":[{"Name":"x"}],"Count":1}')).toEqual([{ Name: "x" }]);
});

test("bad JSON names the file, line and column; truncated JSON points at its end", () => {
  expect(() => parseExport("send.json", '[\n  {"Name": "x",\n   "Port": 25,,\n  }\n]')).toThrow(
    /^send\.json:3:15: not valid JSON/,
  );
  expect(() => parseExport("send.json", '[\n  {"Name": "x",\n   "Port": 2')).toThrow(
    /^send\.json:3:13: not valid JSON: the JSON ends early/,
  );
  expect(() => parseExport("send.json", "42")).toThrow(/expected the output of ConvertTo-Json/);
  expect(() => parseExport("send.json", "[1]")).toThrow(/item 0 is not an object/);
});
