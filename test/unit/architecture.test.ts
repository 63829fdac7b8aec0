// Rules of the layout the compiler cannot see: a one-directional import graph, and every SMTP reply in core/replies.ts.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const PRODUCTION = ["core", "listener", "functions", "adapters", "local", "cli", "infra"];

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

  test("infra reads adapters' names and key schemas only, never a module that loads an AWS SDK or Powertools", () => {
    const runtime = /^(@aws-sdk\/|@aws-lambda-powertools\/|@middy\/)/;
    const offenders = sources("infra").flatMap((f) =>
      imports(f)
        .filter((i) => i.startsWith("#adapters/"))
        .filter((i) => imports(i.replace("#adapters/", "adapters/")).some((j) => runtime.test(j)))
        .map((i) => `${f} -> ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  test("adapters import neither the listener, the functions, local mode nor the CLI", () => {
    const offenders = sources("adapters").flatMap((f) =>
      imports(f)
        .filter((i) =>
          /^#(listener|functions|local|cli)\/|\/(listener|functions|local|cli)\//.test(i),
        )
        .map((i) => `${f} -> ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  test("only listener/smtp-server-internals.ts reaches into smtp-server's private modules", () => {
    const all = [...PRODUCTION, "test", "bench"].flatMap(sources);
    const offenders = all
      .filter((f) => f !== join("listener", "smtp-server-internals.ts"))
      .filter((f) => !f.includes("smtp-server-internals.test.ts"))
      .filter((f) => imports(f).some((i) => i.startsWith("smtp-server/lib/")));
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

/** Source lines with comments dropped: a reply quoted in a comment explains, it is not sent. */
function code(file: string): string[] {
  return readFileSync(join(ROOT, file), "utf8")
    .split("\n")
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .map((line) => line.replace(/\s\/\/\s.*$/, ""));
}

describe("replies", () => {
  test("every SMTP reply the relay sends is defined in core/replies.ts", () => {
    // "451 4.3.0 …" in a string, (451, "4.3.0 …") as arguments, { code: 451, enhanced: "4.3.0", text }.
    const literal = [
      /["'`][245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b/,
      /\b[245]\d\d,\s*["'`][245]\.\d{1,3}\.\d{1,3}\b/,
      /enhanced:\s*["'`][245]\.\d{1,3}\.\d{1,3}["'`],\s*text:/,
    ];
    const offenders = PRODUCTION.flatMap(sources)
      .filter((f) => f !== join("core", "replies.ts"))
      .flatMap((f) => {
        const lines = code(f);
        const joined = lines.join(" ").replace(/\s+/g, " ");
        const hits = lines.filter((l) => literal.slice(0, 2).some((re) => re.test(l)));
        if (literal[2]?.test(joined)) hits.push("{ code, enhanced, text } literal");
        return hits.map((l) => `${f}: ${l.trim()}`);
      });
    expect(offenders).toEqual([]);
  });
});

describe("names", () => {
  test("each exported type, interface and class name is defined once in production code", () => {
    const where = new Map<string, string[]>();
    for (const f of PRODUCTION.flatMap(sources)) {
      const text = readFileSync(join(ROOT, f), "utf8");
      for (const m of text.matchAll(/^export (?:interface|type|(?:abstract )?class) (\w+)/gm)) {
        const name = m[1] ?? "";
        where.set(name, [...(where.get(name) ?? []), f]);
      }
    }
    const twice = [...where]
      .filter(([, files]) => files.length > 1)
      .map(([n, f]) => `${n}: ${f.join(", ")}`);
    expect(twice).toEqual([]);
  });
});

describe("size", () => {
  // A file that outgrows three screens has grown a second job.
  test("no source, test or bench file is over 400 lines", () => {
    const offenders = [...PRODUCTION, "test", "bench", "bin"]
      .flatMap((dir) =>
        readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile() && /\.(ts|mjs|js)$/.test(e.name))
          .map((e) => relative(ROOT, join(e.parentPath, e.name))),
      )
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), "utf8").split("\n").length - 1 }))
      .filter(({ lines }) => lines > 400)
      .map(({ f, lines }) => `${f}: ${lines} lines`);
    expect(offenders).toEqual([]);
  });
});

describe("documents", () => {
  test("every document a source, test or doc names is in the repository", () => {
    const files = [...PRODUCTION, "test", "bench", "docs"].flatMap((dir) =>
      readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && /\.(ts|md)$/.test(e.name))
        .map((e) => relative(ROOT, join(e.parentPath, e.name))),
    );
    const missing = [...files, "README.md"].flatMap((f) => {
      const text = readFileSync(join(ROOT, f), "utf8");
      return [...text.matchAll(/(?<![\w./-])((?:[\w-]+\/)*[A-Za-z][\w-]*\.md)\b/g)]
        .map((m) => m[1] ?? "")
        .filter((doc) => {
          const candidates = [doc, join("docs", doc), join(dirname(f), doc)];
          return !candidates.some((c) => existsSync(join(ROOT, c)));
        })
        .map((doc) => `${f} names ${doc}`);
    });
    expect(missing).toEqual([]);
  });
});
