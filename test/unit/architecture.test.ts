// The import graph stays one-directional: core is pure, listener and functions never import each other.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(/^\s*(?:import|export)[^"']*?from\s+["']([^"']+)["']/gm)].map(
    (m) => m[1] ?? "",
  );
}

describe("import graph", () => {
  test("core imports no AWS SDK, no sockets, no file system, no DNS, and nothing outside core", () => {
    const banned =
      /^(@aws-sdk\/|node:(net|tls|fs|fs\/promises|dns|dns\/promises|http|https|dgram|child_process)$|#(listener|functions|adapters|local|cli)\/)/;
    const offenders = sources("core").flatMap((f) =>
      imports(f)
        .filter((i) => banned.test(i) || i.startsWith("../../"))
        .map((i) => `${f} -> ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  test("listener and functions never import each other", () => {
    const a = sources("listener").flatMap((f) =>
      imports(f)
        .filter((i) => i.includes("functions/"))
        .map((i) => `${f} -> ${i}`),
    );
    const b = sources("functions").flatMap((f) =>
      imports(f)
        .filter((i) => i.includes("listener/"))
        .map((i) => `${f} -> ${i}`),
    );
    expect([...a, ...b]).toEqual([]);
  });
});
