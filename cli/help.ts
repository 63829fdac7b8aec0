// `relay --help`, `relay <noun> [<verb>] --help` and `relay --version`, written from the command table.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AWS_FLAGS } from "./args.ts";
import { COMMANDS, type FlagDoc, type VerbDoc } from "./commands/table.ts";

/** Flags every verb takes, for help and completion. */
export const COMMON_FLAGS: FlagDoc[] = [
  { flag: "json", hint: "bool", description: "machine output (shapes in docs/cli.md)" },
  {
    flag: "home",
    hint: "dir",
    description: "local RELAY_HOME",
    default: "$RELAY_HOME, else ./.relay",
  },
  { flag: "aws", hint: "bool", description: "act on the deployed stack instead of RELAY_HOME" },
  {
    flag: "stack",
    hint: "name",
    description:
      "read table, queue and bucket names from this CloudFormation stack's outputs (implies --aws)",
  },
  {
    flag: "region",
    hint: "text",
    description: "AWS region",
    default: "AWS_REGION / the profile's",
  },
  ...Object.entries(AWS_FLAGS)
    .filter(([flag]) => flag !== "region")
    .map(([flag, env]) => ({
      flag,
      hint: "text",
      description: `with --aws; else ${env}, or the stack output with --stack`,
    })),
  { flag: "help", hint: "bool", description: "this help" },
];

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  return `relay ${pkg.version} (${pkg.name}, Node ${process.versions.node})\n`;
}

function flagLines(flags: FlagDoc[]): string {
  // A field's boolean also takes --no-<flag> (parseArgs allowNegative) to turn it off.
  const left = flags.map((f) =>
    f.hint === "bool"
      ? `--${f.default !== undefined ? "[no-]" : ""}${f.flag}`
      : `--${f.flag} ${f.hint}`,
  );
  const width = Math.min(Math.max(0, ...left.map((l) => l.length)), 44);
  return flags
    .map((f, i) => {
      const notes = [
        f.required ? "required" : "",
        f.description ?? "",
        f.default !== undefined ? `default ${f.default}` : "",
      ].filter((s) => s !== "");
      const l = left[i] ?? "";
      const pad = l.length > width ? `\n  ${" ".repeat(width)}` : " ".repeat(width - l.length);
      return `  ${l}${pad}  ${notes.join("; ")}`.trimEnd();
    })
    .join("\n");
}

export function verbHelp(noun: string, verb: string): string {
  const doc = COMMANDS[noun]?.verbs[verb] as VerbDoc;
  const usage = [
    `relay ${noun}${verb ? ` ${verb}` : ""}`,
    doc.flags.length ? "[flags]" : "",
    doc.positional ?? "",
  ]
    .filter((s) => s !== "")
    .join(" ");
  return [
    `${usage}: ${doc.summary}`,
    "",
    doc.flags.length ? `Flags:\n${flagLines(doc.flags)}` : "Flags: none of its own",
    "",
    `Example:\n  ${doc.example}`,
    "",
    "Common flags (--json, --home, --aws, --stack, ...): relay --help",
    "",
  ].join("\n");
}

/** Help for a noun: its verbs, or the verb's own help when it has none. */
export function nounHelp(noun: string): string {
  const doc = COMMANDS[noun];
  if (!doc) return topHelp();
  if ("" in doc.verbs) return verbHelp(noun, "");
  const verbs = Object.entries(doc.verbs)
    .map(([v, d]) => `  relay ${noun} ${v.padEnd(8)} ${d.summary}`)
    .join("\n");
  return `relay ${noun}: ${doc.summary}\n\n${verbs}\n\nEach verb's flags: relay ${noun} VERB --help\n`;
}

export function topHelp(): string {
  const rows = Object.entries(COMMANDS).map(([noun, d]) => {
    const verbs = Object.keys(d.verbs).filter((v) => v !== "");
    return `  relay ${noun.padEnd(18)} ${verbs.join("|").padEnd(22)} ${d.summary}`;
  });
  return [
    "relay: manage connector-relay like an Exchange admin",
    "",
    ...rows,
    "",
    "Each verb's flags, types, defaults and an example: relay NOUN VERB --help",
    "",
    `Common flags:\n${flagLines(COMMON_FLAGS)}`,
    "  (credentials, and the region when not given, from the AWS SDK's default chain)",
    "",
    "relay --version; shell completion: relay completion bash|zsh",
    "Exit codes: 0 success, 1 failure, 2 bad input (the message names the flag or field), 3 not found.",
    "Every verb and its --json shape: docs/cli.md",
    "",
  ].join("\n");
}
