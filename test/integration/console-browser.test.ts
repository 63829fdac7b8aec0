// The admin console in a real browser (Debian's chromium, headless, driven by playwright-core) against a running local relay, and its refusals over plain HTTP.
import { get } from "node:http";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { TrackingLine } from "#core/usecases/admin-views.ts";
import { type CliRelay, startCliRelay, submit, waitFor } from "#test/support/cli-relay.ts";
import { freePort } from "#test/support/relay-process.ts";
import { type Sink, startSink } from "#test/support/sink.ts";

let sink: Sink;
let r: CliRelay;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let loginUrl: string;
let origin: string;
const answers = new Map<string, string>();
const GREYLIST = "451 4.7.1 Greylisted, try again later";

beforeAll(async () => {
  sink = await startSink({ script: { rcpt: (a) => answers.get(a) } });
  r = await startCliRelay(
    [
      {
        kind: "SendConnector",
        name: "Smart Host",
        addressSpaces: [{ domain: "*", cost: 1 }],
        dnsRoutingEnabled: false,
        smartHosts: [`127.0.0.1:${sink.port}`],
      },
      // An hour between tries: only the console's Retry can deliver within the test.
      {
        kind: "TransportSettings",
        name: "default",
        retrySchedule: [{ intervalSeconds: 3600, count: 10 }],
      },
    ],
    { RELAY_CONSOLE_PORT: String(await freePort()) },
  );
  await waitFor("the console line", () => /console: (http\S+)/.test(r.relay.stdout()));
  loginUrl = /console: (http\S+)/.exec(r.relay.stdout())?.[1] ?? "";
  origin = new URL(loginUrl).origin;
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  context = await browser.newContext();
  page = await context.newPage();
  // A script that ran (a connector name that escaped its escaping) would open a dialog.
  page.on("dialog", (d) => {
    throw new Error(`a dialog opened: ${d.message()}`);
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await r?.stop();
  await sink?.close();
});

const sendConnectors = () => r.json<Array<{ name: string }>>(["send-connector", "get"]);

// Each test drives the browser and the CLI as child processes: generous on a busy machine.
describe("the admin console in a browser", { timeout: 120_000 }, () => {
  test("the printed address signs the browser in with an HttpOnly SameSite=Strict cookie and drops the token from the address", async () => {
    expect(loginUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
    await page.goto(loginUrl);
    expect(page.url()).toBe(`${origin}/queues`);
    await expect(page.locator("h1").textContent()).resolves.toBe("Queues");
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
  });

  test("a send connector made with the wizard is the one relay route explain chooses", async () => {
    await page.goto(`${origin}/send-connectors/new`);
    await page.getByLabel("Name", { exact: true }).fill("To Fabrikam");
    await page.getByLabel("Type").selectOption("Partner");
    await page.getByLabel("Route mail through smart hosts").check();
    await page.getByLabel("Smart hosts", { exact: true }).fill(`127.0.0.1:${sink.port}`);
    await page.getByLabel("Address space 1 domain").fill("fabrikam.com");
    await page.getByLabel("Address space 1 cost").fill("5");
    await page.getByRole("button", { name: "Save" }).click();
    expect(page.url()).toBe(`${origin}/send-connectors`);
    await expect(page.getByRole("status").textContent()).resolves.toContain(
      'Created SendConnector "To Fabrikam"',
    );
    await expect(page.locator("table").textContent()).resolves.toContain("smtp:fabrikam.com;5");
    const explained = await r.json<{ selected: { connector: string } }>([
      "route",
      "explain",
      "--to",
      "ann@fabrikam.com",
    ]);
    expect(explained.selected.connector).toBe("To Fabrikam");
  });

  test("an invalid address space is reported beside the field with the CLI's message, and nothing is saved", async () => {
    const before = await sendConnectors();
    await page.goto(`${origin}/send-connectors/new`);
    await page.getByLabel("Name", { exact: true }).fill("Broken");
    await page.getByLabel("Address space 1 domain").fill("fabrikam..com");
    await page.getByRole("button", { name: "Save" }).click();
    const error = await page.locator("#err-addressSpaces").textContent();
    const cli = await r.cli([
      "send-connector",
      "new",
      "--name",
      "Broken",
      "--address-spaces",
      "fabrikam..com;1",
    ]);
    expect(cli.code).toBe(2);
    const message = /\(addressSpaces\[0\]\.domain\): (.*)$/m.exec(cli.stderr)?.[1];
    expect(message).toBeTruthy();
    expect(error).toContain(`addressSpaces[0].domain: ${message}`);
    await expect(
      page.getByLabel("Address space 1 domain").getAttribute("aria-invalid"),
    ).resolves.toBe("true");
    expect(await sendConnectors()).toEqual(before);
  });

  test("a connector name with a script is shown as text, and an overlong one is refused", async () => {
    const before = await sendConnectors();
    const hostile = `<script>alert(1)</script>${"x".repeat(60)}`;
    await page.goto(`${origin}/send-connectors/new`);
    await page.getByLabel("Name", { exact: true }).fill(hostile);
    await page.getByLabel("Address space 1 domain").fill("contoso.com");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.locator("#err-name").textContent()).resolves.toMatch(/64/);
    await expect(page.getByLabel("Name", { exact: true }).inputValue()).resolves.toBe(hostile);
    expect(await sendConnectors()).toEqual(before);
  });

  test("a message the smart host answers 451 shows in Queues with its LastError; Retry after it recovers delivers it and Message trace shows DELIVER", async () => {
    answers.set("bob@contoso.net", GREYLIST);
    const id = await submit(r.port, "alice@contoso.com", ["bob@contoso.net"]);
    const queue = `127.0.0.1:${sink.port}`;
    await page.goto(`${origin}/queues`);
    const row = page.locator("tr", { hasText: queue });
    await row.getByText(GREYLIST).waitFor({ timeout: 20_000 });
    await expect(row.textContent()).resolves.toContain("Retry");
    answers.delete("bob@contoso.net");
    await row.getByRole("link", { name: `Messages in ${queue}` }).click();
    await page.getByRole("button", { name: `Retry message ${id}` }).click();
    await expect(page.getByRole("status").textContent()).resolves.toContain(
      `Retrying message ${id}: bob@contoso.net`,
    );
    await waitFor("delivery", () =>
      sink.received.some((m) => m.rcptTo.includes("bob@contoso.net")),
    );
    await waitFor("DELIVER tracked", async () =>
      (await r.json<TrackingLine[]>(["track", "--message-id", id])).some(
        (l) => l.eventId === "DELIVER",
      ),
    );
    await page.goto(`${origin}/trace`);
    await page.getByLabel("Message id").fill(id);
    await page.getByRole("button", { name: "Search" }).click();
    const trace = (await page.locator("#trace-result").textContent()) ?? "";
    for (const event of ["RECEIVE", "ROUTE", "DEFER", "RETRY", "DELIVER"])
      expect(trace).toContain(event);
    expect(trace).toContain(GREYLIST);
  });
});

describe("the console over plain HTTP", { timeout: 120_000 }, () => {
  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const login = await fetch(loginUrl, { redirect: "manual" });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const html = await (
      await fetch(`${origin}/accepted-domains/new`, { headers: { cookie } })
    ).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    return { cookie, csrf };
  }
  const post = (cookie: string, form: Record<string, string>, from = origin) =>
    fetch(`${origin}/accepted-domains/new`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: from, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
  const domains = async () =>
    (await r.json<Array<{ domain: string }>>(["accepted-domain", "get"])).map((d) => d.domain);

  test("without the token, a wrong token, without the CSRF token or from another origin: refused, nothing saved; with them: saved", async () => {
    expect((await fetch(`${origin}/queues`)).status).toBe(401);
    expect((await fetch(`${origin}/?token=wrong`, { redirect: "manual" })).status).toBe(401);
    expect((await post("relay_console=forged", { "f.domain": "a.example" })).status).toBe(401);
    const { cookie, csrf } = await signIn();
    expect(csrf).not.toBe("");
    expect((await post(cookie, { "f.domain": "b.example" })).status).toBe(403);
    expect((await post(cookie, { "f.domain": "c.example", _csrf: "x" })).status).toBe(403);
    expect(
      (await post(cookie, { "f.domain": "d.example", _csrf: csrf }, "http://evil.example")).status,
    ).toBe(403);
    expect(await domains()).toEqual([]);
    const ok = await post(cookie, { "f.domain": "e.example", _csrf: csrf });
    expect(ok.status).toBe(303);
    expect(await domains()).toEqual(["e.example"]);
  });

  test("a form over 64 KB and a page asked for under another Host name are refused", async () => {
    const { cookie, csrf } = await signIn();
    expect(
      (await post(cookie, { "f.domain": "f.example", _csrf: csrf, pad: "x".repeat(70_000) }))
        .status,
    ).toBe(413);
    // fetch keeps Host to the URL's; a DNS-rebinding page's request carries its own name.
    const rebound = await new Promise<number>((resolve, reject) =>
      get(`${origin}/queues`, { headers: { cookie, host: "evil.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", reject),
    );
    expect(rebound).toBe(421);
    expect(await domains()).toEqual(["e.example"]);
  });
});
