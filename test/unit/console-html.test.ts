// The console's escaping template and the change log's redaction: what a hostile record or a secret field turns into.
import { describe, expect, test } from "vitest";
import { redact } from "#console/app.ts";
import { html, path, table } from "#console/html.ts";

describe("html", () => {
  test("every interpolated value is escaped, nested html is kept, absent values render as nothing", () => {
    const name = `<script>alert("x")</script>' onmouseover='x`;
    const inner = html`<b>${name}</b>`;
    expect(html`<td title="${name}">${inner}${undefined}${null}${false}</td>`.text).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x"><b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x</b></td>',
    );
    expect(html`${["<a>", html`<i>ok</i>`]}`.text).toBe("&lt;a&gt;<i>ok</i>");
  });

  test("a table escapes its cells and shows lists joined", () => {
    const t = table(
      "Send connectors",
      ["Identity", "AddressSpaces"],
      [
        {
          Identity: "<img src=x onerror=alert(1)>",
          AddressSpaces: ["smtp:*;1", "smtp:contoso.com;5"],
        },
      ],
    ).text;
    expect(t).toContain("<td>&lt;img src=x onerror=alert(1)&gt;</td>");
    expect(t).toContain("<td>smtp:*;1, smtp:contoso.com;5</td>");
    expect(t).not.toContain("<img");
  });

  test("paths encode each part", () => {
    expect(path("send-connectors", "edit", "To Internet/../x?y")).toBe(
      "/send-connectors/edit/To%20Internet%2F..%2Fx%3Fy",
    );
  });
});

test("redact replaces secret fields at any depth and keeps the rest", () => {
  expect(
    redact({
      kind: "SmtpUser",
      name: "scanner",
      passwordHash: "$scrypt$ln=15,r=8,p=1$abc$def",
      keys: [{ selector: "s1", privateKey: "-----BEGIN PRIVATE KEY-----" }],
      smartHostAuthSecret: "send-connector/smarthost",
    }),
  ).toEqual({
    kind: "SmtpUser",
    name: "scanner",
    passwordHash: "[redacted]",
    keys: [{ selector: "s1", privateKey: "[redacted]" }],
    smartHostAuthSecret: "send-connector/smarthost",
  });
});
