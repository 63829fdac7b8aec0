// smtp-server's members the listener relies on (listener/smtp-server-internals.ts) exist, with the shapes it expects, on a real session over loopback.
import { once } from "node:events";
import { type AddressInfo, connect, Socket } from "node:net";
import { SMTPServer } from "smtp-server";
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";
import { afterEach, expect, test } from "vitest";
import { SMTP_SERVER_INTERNALS } from "#listener/smtp-server-internals.ts";

const SHAPES: Record<string, (v: unknown) => boolean> = {
  boolean: (v) => typeof v === "boolean",
  number: (v) => typeof v === "number",
  "false or a stream": (v) => v === false || typeof (v as { pipe?: unknown })?.pipe === "function",
  "false or a function": (v) => v === false || typeof v === "function",
  "the socket": (v) => v instanceof Socket,
};

let server: SMTPServer | undefined;
let client: Socket | undefined;
afterEach(async () => {
  client?.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

test("every member listed in SMTP_SERVER_INTERNALS exists on a live session and its server", async () => {
  server = new SMTPServer({ disabledCommands: ["STARTTLS", "AUTH"], logger: false });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", () => resolve()));
  const { port } = s.server.address() as AddressInfo;
  client = connect(port, "127.0.0.1");
  // The greeting: the session is set up and ready.
  expect(String((await once(client, "data"))[0])).toMatch(/^220 /);
  const connections = [...s.connections] as unknown as Record<string, unknown>[];
  expect(connections).toHaveLength(1);
  const session = connections[0] ?? {};
  expect(session).toBeInstanceOf(SMTPConnection);

  const { connection, server: onServer } = SMTP_SERVER_INTERNALS;
  const missing = [
    ...[...connection.overridden, ...connection.called]
      .filter((m) => typeof session[m] !== "function")
      .map((m) => `SMTPConnection.${m}() is gone`),
    ...Object.entries(connection.read)
      .filter(([m, shape]) => !(m in session) || !SHAPES[shape]?.(session[m]))
      .map(([m, shape]) => `SMTPConnection.${m} is not ${shape}: ${String(session[m])}`),
    ...onServer.called
      .filter((m) => typeof (s as unknown as Record<string, unknown>)[m] !== "function")
      .map((m) => `SMTPServer.${m}() is gone`),
  ];
  expect(missing, "smtp-server changed members the listener relies on").toEqual([]);
});
