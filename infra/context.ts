// The deployment's settings from CDK context: cdk.json's "relay" object, then the chosen stage's overrides, then `-c relay.<setting>=<value>`.
import { DEFAULT_STACK_NAME, parseConfig, type RelayConfig, RelayConfigError } from "./config.ts";

/** Context keys the app reads. */
export const CONTEXT = {
  /** The settings every stage shares (cdk.json). */
  relay: "relay",
  /** Per-stage overrides of "relay", by stage name (cdk.json). */
  stages: "stages",
  /** The stage to synthesise or deploy: `cdk deploy -c stage=prod`. */
  stage: "stage",
} as const;

const OVERRIDE_PREFIX = `${CONTEXT.relay}.`;
const STAGE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const SETTING_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

export interface ResolvedSettings {
  config: RelayConfig;
  /** The stage chosen, when cdk.json defines stages. */
  stage?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Objects merge key by key; anything else (arrays included) replaces. */
function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isObject(v) && isObject(out[k]) ? merge(out[k] as Json, v) : v;
  return out;
}

/** `-c` values arrive as strings: JSON where it parses (numbers, booleans, arrays), else the text itself. */
function parseValue(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The "relay" object; on the command line (`-c relay=...`) it is a JSON string that replaces cdk.json's. */
function baseSettings(raw: unknown): Json {
  if (raw === undefined) return {};
  const value = parseValue(raw);
  if (isObject(value)) return value;
  throw new RelayConfigError(
    `context "relay" must be an object of settings (cdk.json), or JSON on the command line: -c 'relay={"natGateways":1}'; to change one setting use -c relay.<setting>=<value>, e.g. -c relay.natGateways=1`,
  );
}

function chooseStage(all: Json, stages: unknown): { name?: string; overrides: Json } {
  const chosen = all[CONTEXT.stage];
  if (stages === undefined) {
    if (chosen !== undefined)
      throw new RelayConfigError(
        `context "stage" is "${String(chosen)}" but cdk.json defines no "stages"; add "stages": {"${String(chosen)}": {}} to its context`,
      );
    return { overrides: {} };
  }
  if (!isObject(stages))
    throw new RelayConfigError(
      `context "stages" must map stage names to settings, e.g. {"prod": {}}`,
    );
  const names = Object.keys(stages);
  for (const name of names)
    if (!STAGE_NAME.test(name))
      throw new RelayConfigError(
        `context "stages.${name}": a stage name is lower-case letters, digits and "-" (it becomes part of the stack name)`,
      );
  if (chosen === undefined || chosen === "")
    throw new RelayConfigError(
      `context "stage" is not set: choose one of ${names.join(", ")} (cdk deploy -c stage=${names[0] ?? "prod"})`,
    );
  const name = String(chosen);
  if (!Object.hasOwn(stages, name))
    throw new RelayConfigError(
      `context "stage": unknown stage "${name}"; cdk.json's "stages" defines ${names.join(", ")}`,
    );
  const overrides = stages[name];
  if (!isObject(overrides))
    throw new RelayConfigError(`context "stages.${name}" must be an object of settings`);
  return { name, overrides };
}

/** Sets `value` at a dotted path, making the objects on the way. */
function setPath(target: Json, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[path.at(-1)!] = value;
}

/**
 * Resolves the settings from all context (`app.node.getAllContext()`): base, stage, then single
 * settings. A stage's stack is named `<stackName>-<stage>` unless the stage or `-c` names it.
 * @throws RelayConfigError naming the key, and the source of the bad value (stage or `-c`).
 */
export function resolveSettings(all: Json): ResolvedSettings {
  const base = baseSettings(all[CONTEXT.relay]);
  const stage = chooseStage(all, all[CONTEXT.stages]);
  let settings = merge(base, stage.overrides);
  const sources: Array<{ path: string; source: string }> = Object.keys(stage.overrides).map(
    (k) => ({ path: k, source: `stage "${stage.name}"` }),
  );

  const single: Json = {};
  for (const [key, raw] of Object.entries(all)) {
    if (!key.startsWith(OVERRIDE_PREFIX)) continue;
    const path = key.slice(OVERRIDE_PREFIX.length).split(".");
    // Setting names are identifiers; this also keeps "__proto__" and friends out of the merge.
    if (!path.every((p) => SETTING_NAME.test(p) && p !== "__proto__"))
      throw new RelayConfigError(
        `context "${key}": not a setting path (e.g. -c relay.listener.minTasks=1)`,
      );
    setPath(single, path, parseValue(raw));
    sources.push({ path: path.join("."), source: `-c ${key}=${String(raw)}` });
  }
  settings = merge(settings, single);

  const named = "stackName" in stage.overrides || "stackName" in single;
  if (stage.name && !named) {
    const base = typeof settings.stackName === "string" ? settings.stackName : DEFAULT_STACK_NAME;
    settings.stackName = `${base}-${stage.name}`;
  }

  const config = parseConfig(settings, (path) => {
    // The most specific source wins; among equals the later one (-c over the stage).
    const hit = [...sources]
      .reverse()
      .filter((s) => path === s.path || path.startsWith(`${s.path}.`))
      .sort((a, b) => b.path.length - a.path.length)[0];
    return hit?.source;
  });
  return { config, ...(stage.name ? { stage: stage.name } : {}) };
}
