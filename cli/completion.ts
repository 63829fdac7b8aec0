// `relay completion bash|zsh`: completion scripts written from the command table (nouns, verbs, flags, enum values).
import { COMMANDS, type FlagDoc } from "./commands/table.ts";
import { COMMON_FLAGS } from "./help.ts";

interface VerbData {
  key: string;
  flags: string[];
  /** Flags that take a value, with the values to offer (empty: free text; "<file>"/"<dir>": paths). */
  values: Array<{ flag: string; words: string[] | "<file>" | "<dir>" }>;
}

const valuesOf = (f: FlagDoc): VerbData["values"][number]["words"] =>
  f.choices ?? (f.hint === "file" ? "<file>" : f.hint === "dir" ? "<dir>" : []);

function table(): { nouns: string[]; verbs: Map<string, string[]>; data: VerbData[] } {
  const verbs = new Map<string, string[]>();
  const data: VerbData[] = [];
  for (const [noun, doc] of Object.entries(COMMANDS)) {
    verbs.set(
      noun,
      Object.keys(doc.verbs).filter((v) => v !== ""),
    );
    for (const [verb, v] of Object.entries(doc.verbs)) {
      const all = [...v.flags, ...COMMON_FLAGS];
      data.push({
        key: `${noun} ${verb}`,
        flags: all.map((f) => `--${f.flag}`),
        values: all
          .filter((f) => f.hint !== "bool")
          .map((f) => ({ flag: `--${f.flag}`, words: valuesOf(f) })),
      });
    }
  }
  return { nouns: Object.keys(COMMANDS), verbs, data };
}

// Every word here is a flag, noun, verb or enum value: [a-z0-9-|] and letters, never a quote.
const words = (list: string[]) => list.join(" ");

/** One `case` arm per flag that takes a value, in either shell's words for paths and choices. */
function valueCases(
  data: VerbData[],
  done: string,
  action: { file: string; dir: string; words: (w: string[]) => string },
): string {
  return data
    .flatMap((d) =>
      d.values.map((v) => {
        const what =
          v.words === "<file>"
            ? action.file
            : v.words === "<dir>"
              ? action.dir
              : action.words(v.words);
        return `    "${d.key} ${v.flag}") ${what}; ${done} ;;`;
      }),
    )
    .join("\n");
}

export function bashCompletion(): string {
  const { nouns, verbs, data } = table();
  const verbArms = [...verbs].map(([noun, v]) => `    ${noun}) verbs="${words(v)}" ;;`).join("\n");
  const flagArms = data.map((d) => `    "${d.key}") flags="${words(d.flags)}" ;;`).join("\n");
  const valueArms = valueCases(data, "return 0", {
    file: 'COMPREPLY=( $(compgen -f -- "$cur") )',
    dir: 'COMPREPLY=( $(compgen -d -- "$cur") )',
    words: (w) => `COMPREPLY=( $(compgen -W "${words(w)}" -- "$cur") )`,
  });
  return `# bash completion for relay (connector-relay), written by \`relay completion bash\`.
# Load it with: source <(relay completion bash)
_relay() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" noun="\${COMP_WORDS[1]}" verb="" verbs="" flags=""
  (( COMP_CWORD > 0 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  COMPREPLY=()
  if (( COMP_CWORD == 1 )); then
    COMPREPLY=( $(compgen -W "${words(nouns)} --help --version" -- "$cur") )
    return 0
  fi
  case "$noun" in
${verbArms}
    *) return 0 ;;
  esac
  if [[ -n "$verbs" ]]; then
    if (( COMP_CWORD == 2 )); then
      COMPREPLY=( $(compgen -W "$verbs" -- "$cur") )
      return 0
    fi
    verb="\${COMP_WORDS[2]}"
  fi
  case "$noun $verb $prev" in
${valueArms}
  esac
  case "$noun $verb" in
${flagArms}
  esac
  COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  return 0
}
complete -F _relay relay
`;
}

const zshDescribe = (name: string, entries: Array<[string, string]>) =>
  `${name}=(${entries.map(([w, d]) => `'${w}:${d.replace(/'/g, "'\\''").replace(/:/g, "\\:")}'`).join(" ")})`;

export function zshCompletion(): string {
  const { verbs, data } = table();
  const nounEntries = Object.entries(COMMANDS).map(([n, d]): [string, string] => [n, d.summary]);
  const verbArms = [...verbs]
    .filter(([, v]) => v.length > 0)
    .map(([noun]) => {
      const doc = COMMANDS[noun];
      const entries = Object.entries(doc?.verbs ?? {}).map(([v, d]): [string, string] => [
        v,
        d.summary,
      ]);
      return `    ${noun}) ${zshDescribe("verbs", entries)} ;;`;
    })
    .join("\n");
  const flagArms = data.map((d) => `    "${d.key}") flags=(${words(d.flags)}) ;;`).join("\n");
  const valueArms = valueCases(data, "return", {
    file: "_files",
    dir: "_files -/",
    words: (w) => `compadd -- ${words(w)}`,
  });
  return `#compdef relay
# zsh completion for relay (connector-relay), written by \`relay completion zsh\`.
# Install: relay completion zsh > "\${fpath[1]}/_relay" (then a new shell), or: source <(relay completion zsh)
_relay() {
  local noun=\${words[2]} verb="" prev=\${words[CURRENT-1]}
  local -a nouns verbs flags
  if (( CURRENT == 2 )); then
    ${zshDescribe("nouns", nounEntries)}
    _describe 'command' nouns
    compadd -- --help --version
    return
  fi
  case $noun in
${verbArms}
  esac
  if (( \${#verbs} > 0 )); then
    if (( CURRENT == 3 )); then
      _describe 'verb' verbs
      return
    fi
    verb=\${words[3]}
  fi
  case "$noun $verb $prev" in
${valueArms}
  esac
  case "$noun $verb" in
${flagArms}
  esac
  compadd -- $flags
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _relay "$@"
else
  compdef _relay relay
fi
`;
}
