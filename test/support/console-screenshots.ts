// `npm run console:screenshots`: the console's main pages as PNGs in docs/console/, from a local relay with a few records and one greylisted message.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startCliRelay, submit, waitFor } from "./cli-relay.ts";
import { freePort } from "./relay-process.ts";
import { startSink } from "./sink.ts";

const OUT = join(import.meta.dirname, "..", "..", "docs", "console");

const sink = await startSink({
  script: {
    rcpt: (a) => (a.startsWith("bob@") ? "451 4.7.1 Greylisted, try again later" : undefined),
  },
});
const r = await startCliRelay(
  [
    {
      kind: "SendConnector",
      name: "To Internet",
      usage: "Internet",
      addressSpaces: [{ domain: "*", cost: 1 }],
      dnsRoutingEnabled: false,
      smartHosts: [`127.0.0.1:${sink.port}`],
    },
    {
      kind: "SendConnector",
      name: "To Fabrikam",
      usage: "Partner",
      addressSpaces: [{ domain: "fabrikam.com", cost: 5 }],
      requireTls: true,
    },
    { kind: "AcceptedDomain", domain: "contoso.com" },
    {
      kind: "TransportSettings",
      name: "default",
      retrySchedule: [{ intervalSeconds: 3600, count: 10 }],
    },
  ],
  { RELAY_CONSOLE_PORT: String(await freePort()) },
);
try {
  await r.cli(["dkim-signing-config", "new", "--domain", "contoso.com"]);
  const id = await submit(
    r.port,
    "scanner@contoso.com",
    ["bob@northwind.example"],
    "Scanned document",
  );
  await submit(r.port, "scanner@contoso.com", ["ann@northwind.example"], "Invoice 4711");
  await waitFor("the deferral", async () =>
    (await r.cli(["queue", "get"])).stdout.includes("Greylisted"),
  );
  await waitFor("the console", () => /console: (http\S+)/.test(r.relay.stdout()));
  const login = /console: (http\S+)/.exec(r.relay.stdout())?.[1] ?? "";
  const origin = new URL(login).origin;
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  await page.goto(login);
  await mkdir(OUT, { recursive: true });
  const shot = async (name: string, path: string, act?: () => Promise<void>) => {
    await page.goto(`${origin}${path}`);
    await act?.();
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
    process.stdout.write(`docs/console/${name}.png\n`);
  };
  await shot("send-connectors", "/send-connectors");
  await shot("new-send-connector", "/send-connectors/new", async () => {
    await page.getByLabel("Name", { exact: true }).fill("To Partner");
    await page.getByLabel("Address space 1 domain").fill("partner..example");
    await page.getByRole("button", { name: "Save" }).click();
  });
  await shot("receive-connectors", "/receive-connectors");
  await shot("queues", "/queues");
  await shot("queue-messages", `/queues/view/${encodeURIComponent(`127.0.0.1:${sink.port}`)}`);
  await shot("message-trace", `/trace?messageId=${id}`);
  await shot("route-explain", "/route?to=ann%40fabrikam.com&from=scanner%40contoso.com");
  await shot("dkim", "/dkim");
  await shot("health", "/health");
  await browser.close();
} finally {
  await r.stop();
  await sink.close();
}
