// Two listener "tasks" sharing one DynamoDB limits table (dynalite): rates and lockouts hold across tasks.
import { afterAll, beforeAll, expect, test } from "vitest";
import { DynamoRateCounterStore } from "#adapters/aws/dynamodb-rate-counters.ts";
import { hashPassword } from "#core/auth/password.ts";
import { type AwsEmulators, startAwsEmulators } from "#test/support/aws-emulators.ts";
import {
  acceptedDomain,
  connectClient,
  receiveConnector,
  startTestListener,
  type TestListener,
} from "#test/support/listener.ts";
import { plainToken, transaction } from "#test/support/smtp-client.ts";

const PASSWORD = "correct horse battery staple";
const MESSAGE = "Subject: scan\r\n\r\nattached\r\n";

let emu: AwsEmulators;
let tasks: TestListener[];

beforeAll(async () => {
  emu = await startAwsEmulators();
  await emu.createLimitsTable("limits");
  const hash = await hashPassword(PASSWORD);
  const records = [
    receiveConnector("Client", {
      bindings: ["127.0.0.1:587"],
      permissionGroups: ["Users"],
      messageRateLimit: 2,
    }),
    acceptedDomain("contoso.com"),
    { kind: "SmtpUser", name: "scanner", passwordHash: hash },
    { kind: "SmtpUser", name: "billing", passwordHash: hash },
    { kind: "TransportSettings", lockoutThresholdPerIp: 3 },
  ];
  // Each task has its own SDK client and store, as two Fargate tasks would; only the table is shared.
  tasks = await Promise.all(
    [0, 1].map(() =>
      startTestListener(
        records,
        {},
        {
          counters: new DynamoRateCounterStore({ client: emu.dynamo, tableName: "limits" }),
        },
      ),
    ),
  );
});

afterAll(async () => {
  for (const t of tasks ?? []) await t.stop();
  await emu?.stop();
});

async function session(t: TestListener, from: string) {
  const { client } = await connectClient(t, { from, binding: "127.0.0.1:587" });
  await client.command("EHLO app.example");
  await client.startTls(t.ca);
  await client.command("EHLO app.example");
  return client;
}

const auth = async (t: TestListener, from: string, name: string, password: string) => {
  const c = await session(t, from);
  return { c, reply: (await c.command(`AUTH PLAIN ${plainToken(name, password)}`)).text };
};

test("failures spread over two tasks lock the address on both", async () => {
  const [a, b] = tasks as [TestListener, TestListener];
  expect((await auth(a, "127.0.0.5", "admin", "guess")).reply).toMatch(/^535 /);
  expect((await auth(b, "127.0.0.5", "info", "guess")).reply).toMatch(/^535 /);
  expect((await auth(a, "127.0.0.5", "root", "guess")).reply).toMatch(/^535 /);
  for (const t of [a, b])
    expect((await auth(t, "127.0.0.5", "scanner", PASSWORD)).reply).toBe(
      "454 4.7.0 Temporary authentication failure",
    );
  expect([...a.logs, ...b.logs].filter((l) => l.message === "AUTH lockout")).toHaveLength(1);
});

test("MessageRateLimit counts messages through either task; nothing over it is queued", async () => {
  const [a, b] = tasks as [TestListener, TestListener];
  for (const t of [a, b]) {
    const { c, reply } = await auth(t, "127.0.0.6", "scanner", PASSWORD);
    expect(reply).toMatch(/^235 /);
    expect((await transaction(c, "a@contoso.com", ["x@fabrikam.com"], MESSAGE)).end?.code).toBe(
      250,
    );
  }
  const { c } = await auth(a, "127.0.0.6", "billing", PASSWORD);
  expect((await c.command("MAIL FROM:<billing@contoso.com>")).text).toBe(
    "421 4.4.2 Message submission rate for this client has exceeded the configured limit",
  );
  expect(a.queue.peek().length + b.queue.peek().length).toBe(2);
});
