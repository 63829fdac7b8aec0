// The console's page frame (navigation as in the Exchange admin center), its stylesheet and the vendored htmx.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type Html, html } from "./html.ts";

const NAV: Array<[section: string, links: Array<[href: string, label: string]>]> = [
  [
    "Mail flow",
    [
      ["/send-connectors", "Send connectors"],
      ["/receive-connectors", "Receive connectors"],
      ["/accepted-domains", "Accepted domains"],
      ["/users", "Users"],
      ["/transport-settings", "Transport settings"],
      ["/dkim", "DKIM signing"],
    ],
  ],
  [
    "Monitoring",
    [
      ["/queues", "Queues"],
      ["/trace", "Message trace"],
      ["/route", "Route explain"],
      ["/health", "Health"],
    ],
  ],
];

export interface PageOptions {
  /** The current path, marked in the navigation with aria-current. */
  current: string;
  csrf: string;
  runtime: string;
  /** A line at the top: what a change just did. */
  notice?: string;
}

/** The hidden field every change form carries. */
export const csrfField = (csrf: string): Html =>
  html`<input type="hidden" name="_csrf" value="${csrf}">`;

export function page(title: string, body: Html, o: PageOptions): Html {
  const nav = NAV.map(
    ([section, links]) =>
      html`<h2>${section}</h2><ul>${links.map(
        ([href, label]) =>
          html`<li><a href="${href}"${o.current.startsWith(href) ? html` aria-current="page"` : ""}>${label}</a></li>`,
      )}</ul>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"historyCacheSize":0}'>
<title>${title} · connector-relay console</title>
<link rel="stylesheet" href="/static/console.css">
<script src="/static/htmx.min.js" defer></script>
</head>
<body hx-headers='{"X-CSRF-Token":"${o.csrf}"}'>
<a class="skip" href="#main">Skip to content</a>
<header><p class="brand">connector-relay <span>admin console · ${o.runtime}</span></p>
<form method="post" action="/logout">${csrfField(o.csrf)}<button type="submit">Sign out</button></form></header>
<div class="frame">
<nav aria-label="Console">${nav}</nav>
<main id="main">
<h1>${title}</h1>
${o.notice && html`<p class="notice" role="status">${o.notice}</p>`}
${body}
</main>
</div>
</body>
</html>`;
}

/** A page for someone not signed in (no navigation, no form). */
export function bare(title: string, text: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} · connector-relay console</title>
<link rel="stylesheet" href="/static/console.css"></head>
<body><main id="main" class="bare"><h1>${title}</h1>${text}</main></body></html>`;
}

// Contrast: text #1b1b1b on white and white on #0f4c81 are above WCAG AA's 4.5:1; focus is always visible.
const CSS = `
:root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fff; }
body { margin: 0; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; }
header { display: flex; justify-content: space-between; align-items: center; background: #0f4c81; color: #fff; padding: 0 16px; }
header .brand { font-weight: 600; } header .brand span { font-weight: 400; margin-left: 8px; }
.frame { display: flex; min-height: calc(100vh - 50px); }
nav { width: 210px; background: #f3f2f1; padding: 8px 16px; flex-shrink: 0; }
nav h2 { font-size: .85rem; text-transform: uppercase; color: #3b3a39; margin: 16px 0 4px; }
nav ul { list-style: none; margin: 0; padding: 0; } nav li a { display: block; padding: 4px 6px; color: #0f4c81; }
nav a[aria-current] { background: #dfe9f3; font-weight: 600; }
main { padding: 8px 24px 32px; flex: 1; min-width: 0; overflow-x: auto; } main.bare { max-width: 40em; margin: 40px auto; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid #c05600; outline-offset: 2px; }
table { border-collapse: collapse; margin: 8px 0 16px; width: 100%; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border-bottom: 1px solid #c8c6c4; padding: 5px 8px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #f3f2f1; }
td.actions { white-space: nowrap; } td.actions form { display: inline; }
button, .button { background: #0f4c81; color: #fff; border: 1px solid #0f4c81; border-radius: 2px; padding: 5px 12px; font: inherit; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: #0f4c81; }
button.danger { background: #a4262c; border-color: #a4262c; }
fieldset { border: 1px solid #c8c6c4; margin: 0 0 16px; padding: 8px 16px 12px; }
legend { font-weight: 600; padding: 0 4px; }
.field { margin: 8px 0; } .field label { display: block; font-weight: 600; margin-bottom: 2px; } .field label.inline { display: inline; font-weight: 400; margin-left: 4px; }
.field .hint { color: #484644; font-size: .85rem; margin: 2px 0; }
input[type=text], input[type=password], input[type=number], input[type=search], input[type=datetime-local], select, textarea { font: inherit; padding: 4px 6px; border: 1px solid #605e5c; min-width: 18em; max-width: 100%; }
.error { color: #a4262c; font-weight: 600; margin: 2px 0; } [aria-invalid=true] { border-color: #a4262c; border-width: 2px; }
.notice { background: #dff6dd; border-left: 4px solid #107c10; padding: 6px 10px; }
.problems { background: #fde7e9; border-left: 4px solid #a4262c; padding: 6px 10px; }
.empty { color: #484644; } .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
pre, code { font-family: ui-monospace, monospace; font-size: .88rem; } pre { background: #f3f2f1; padding: 8px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.status-Retry, .status-FAIL, .verdict-lost { color: #a4262c; } .status-WARN { color: #8a4b00; }
`;

const htmxPath = createRequire(import.meta.url).resolve("htmx.org/dist/htmx.min.js");
let htmx: string | undefined;

/** The console's static files: its stylesheet and htmx from node_modules (no CDN: admin hosts may be offline). */
export function staticFile(name: string): { type: string; body: string } | undefined {
  if (name === "console.css") return { type: "text/css; charset=utf-8", body: CSS };
  if (name === "htmx.min.js") {
    htmx ??= readFileSync(htmxPath, "utf8");
    return { type: "text/javascript; charset=utf-8", body: htmx };
  }
  return undefined;
}
