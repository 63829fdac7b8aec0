// `npm start`: runs connector-relay in local mode and tells the admin where it listens and keeps its state.
import type { ReceiveConnector } from "#core/records/receive-connector.ts";
import { RelayHomeLockedError } from "./home.ts";
import { type LocalRelay, startLocalRelay } from "./relay.ts";
import { parseDeliveryPriority } from "./thread-priority.ts";

function describeConnector(c: ReceiveConnector): string {
  const relay = c.grantedPermissions.includes("AnonymousUsers:AcceptAnyRecipient");
  const auth = c.authMechanisms.some((m) => m.startsWith("BasicAuth"));
  const parts = [
    c.implicitTls ? "implicit TLS" : c.authMechanisms.includes("Tls") ? "STARTTLS" : "no TLS",
    auth ? "AUTH after TLS" : "anonymous",
    relay
      ? `relay allowed from ${c.remoteIpRanges.join(", ")}`
      : c.permissionGroups.includes("Users")
        ? "authenticated users may relay"
        : "accepted domains only",
  ];
  return parts.join(", ");
}

function banner(relay: LocalRelay): string {
  const set = relay.records.current;
  const lines = ["connector-relay is running in local mode", `  state:      ${relay.home.root}`];
  const byBinding = new Map<string, string[]>();
  for (const c of set?.receiveConnectors.filter((x) => x.enabled) ?? []) {
    for (const b of c.bindings)
      byBinding.set(b, [...(byBinding.get(b) ?? []), `"${c.name}" (${describeConnector(c)})`]);
  }
  const bound = relay.listener.addresses();
  lines.push(
    `  listening:  ${bound.map((a) => `${a.ip.includes(":") ? `[${a.ip}]` : a.ip}:${a.actualPort}`).join(", ")}`,
  );
  for (const [binding, names] of byBinding)
    lines.push(`              ${binding}  ${names.join("; ")}`);
  const send = set?.sendConnectors.filter((c) => c.enabled) ?? [];
  lines.push(
    `  sending:    ${send.map((c) => `"${c.name}" ${c.addressSpaces.map((a) => `${a.domain};${a.cost}`).join(",")} ${c.dnsRoutingEnabled ? "by MX" : `via ${c.smartHosts.join(", ")}`}`).join("; ") || "no send connector yet: relay send-connector new --name ... --address-spaces '*;1'"}`,
  );
  if (relay.seeded) {
    lines.push(
      "  first start: created the default connectors (relay receive-connector get / relay send-connector get)",
    );
    lines.push(
      "  add a user for port 2587: RELAY_PASSWORD='...' npx relay user new --name app --allowed-senders app@example.com",
    );
  }
  if (relay.tls.generated)
    lines.push(
      `  TLS:        generated a self-signed certificate at ${relay.tls.source} (set RELAY_TLS_CERT and RELAY_TLS_KEY to use your own)`,
    );
  if (relay.recovered > 0)
    lines.push(
      `  recovered:  ${relay.recovered} message(s) that were in progress when the relay last stopped`,
    );
  lines.push(
    "  try:        swaks --server 127.0.0.1:2525 --from app@example.com --to someone@example.net",
  );
  lines.push(`  queues:     npx relay queue get    logs: ${relay.home.protocolLogs}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The admin console on 127.0.0.1:2580 (RELAY_CONSOLE_PORT; 0 turns it off), reading RELAY_HOME
 * through the CLI's local back end as `relay console` would. A console that cannot start is
 * reported and the relay runs on: mail flow never depends on it.
 */
async function startConsoleBeside(relay: LocalRelay): Promise<() => Promise<void>> {
  const { consoleEnv } = await import("#console/start.ts");
  const settings = consoleEnv();
  if (settings.port?.trim() === "0") return async () => {};
  try {
    const { openContext } = await import("#cli/context.ts");
    const { serveConsole } = await import("#console/start.ts");
    const ctx = await openContext({ home: relay.home.root });
    const running = await serveConsole(ctx, settings, "local mode");
    process.stdout.write(`console: ${running.loginUrl}\n`);
    return async () => {
      await running.close();
      ctx.close();
    };
  } catch (error) {
    const e = error as Error & { code?: string };
    const why =
      e.code === "EADDRINUSE"
        ? `port ${settings.port ?? 2580} is in use; set RELAY_CONSOLE_PORT to another port, or 0 for no console`
        : e.message;
    process.stderr.write(`connector-relay: the console did not start: ${why}\n`);
    return async () => {};
  }
}

async function main(): Promise<void> {
  let relay: LocalRelay;
  try {
    relay = await startLocalRelay({
      deliveryPriority: parseDeliveryPriority(process.env.RELAY_DELIVERY_PRIORITY),
      ...(process.env.RELAY_HEALTH_PORT
        ? { healthPort: Number(process.env.RELAY_HEALTH_PORT) }
        : {}),
      ...(Number(process.env.RELAY_EVENT_RETRY_BASE_MS) > 0
        ? { eventRetryBaseMs: Number(process.env.RELAY_EVENT_RETRY_BASE_MS) }
        : {}),
    });
  } catch (error) {
    if (error instanceof RelayHomeLockedError) {
      process.stderr.write(`connector-relay: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`connector-relay: could not start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(banner(relay));
  const stopConsole = await startConsoleBeside(relay);
  let stoppingSince: number | undefined;
  const stop = async (signal: string) => {
    if (stoppingSince !== undefined) {
      // Under `npm start` one Ctrl-C arrives twice: from the terminal to the process group, and
      // forwarded by npm. Only a second signal a moment later means "exit now".
      if (Date.now() - stoppingSince < 1000) return;
      process.stderr.write(`connector-relay: ${signal} again, exiting now\n`);
      process.exit(130);
    }
    stoppingSince = Date.now();
    process.stdout.write(
      `connector-relay: ${signal}: stopping (sessions may finish; press Ctrl-C again to exit at once)\n`,
    );
    await stopConsole();
    await relay.stop();
    process.stdout.write("connector-relay: stopped\n");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

await main();
