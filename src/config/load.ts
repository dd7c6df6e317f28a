import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ArchiveError, ErrorCodes } from '../errors.js';
import { configSchema, type Config } from './schema.js';

export const ENV_PREFIX = 'KAFKA_ARCHIVE_';

type Tree = Record<string, unknown>;

export interface LoadOptions {
  /** Path of the YAML file; when absent only defaults and environment apply. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /**
   * Values from command-line flags, applied last (defaults < file < environment < flags) and
   * validated like the rest; a problem names the flag (`source`, e.g. "--topic-pattern").
   */
  overrides?: ConfigOverride[];
}

/** One key set by a command-line flag. */
export interface ConfigOverride {
  /** Dotted key path, e.g. "archiver.topicPatterns". */
  path: string;
  value: unknown;
  /** The flag, e.g. "--topic-pattern". */
  source: string;
}

export interface ConfigProblem {
  /** Dotted key path, e.g. "kafka.brokers". */
  path: string;
  /** Where the value came from: the file, or the environment variable's name. */
  source: string;
  message: string;
}

/** HOT_DIR -> hotDir */
function envSegmentToKey(seg: string): string {
  return seg.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Environment overrides: KAFKA_ARCHIVE_KAFKA__BROKERS=a:9092,b:9092 sets kafka.brokers. */
export function envOverrides(env: NodeJS.ProcessEnv): { tree: Tree; sources: Map<string, string> } {
  const tree: Tree = {};
  const sources = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).split('__').map(envSegmentToKey);
    if (path.some((p) => p.length === 0)) continue;
    let node = tree;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
      node = node[key] as Tree;
    }
    node[path[path.length - 1] as string] = value;
    sources.set(path.join('.'), name);
  }
  return { tree, sources };
}

function isPlainObject(v: unknown): v is Tree {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const cur = out[k];
    out[k] = isPlainObject(cur) && isPlainObject(v) ? deepMerge(cur, v) : v;
  }
  return out;
}

function readYaml(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ArchiveError(
      ErrorCodes.CONFIG_FILE_UNREADABLE,
      `cannot read config file ${file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `${file}: ${e.message.split('\n')[0] ?? e.message}`);
    throw new ArchiveError(ErrorCodes.CONFIG_INVALID, lines.join('\n'), {
      details: { problems: lines },
    });
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new ArchiveError(
      ErrorCodes.CONFIG_INVALID,
      `${file}: the top level must be a mapping of keys (log, kafka, archiver)`,
    );
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  const s = JSON.stringify(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The keys an object schema accepts at `path` (used to say what is allowed for unknown keys). */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = configSchema;
  for (const seg of [...path, null]) {
    // unwrap default / prefault / optional / pipe / preprocess wrappers
    for (let i = 0; i < 10; i++) {
      const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
      if (def === undefined) return [];
      if (def.type === 'object') break;
      schema = def.innerType ?? def.in ?? def.out;
      if (schema === undefined) return [];
    }
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    if (shape === undefined) return [];
    if (seg === null) return Object.keys(shape);
    schema = shape[String(seg)];
  }
  return [];
}

function formatIssue(
  issue: z.core.$ZodIssue,
  sources: Map<string, string>,
  file: string | undefined,
): ConfigProblem[] {
  const pathStr = issue.path.map(String).join('.');
  // The most specific source: "archiver.topicPatterns.0" comes from archiver.topicPatterns's.
  const sourceOf = (p: string) => {
    for (let key = p; ; key = key.slice(0, key.lastIndexOf('.'))) {
      const s = sources.get(key);
      if (s !== undefined) return s;
      if (!key.includes('.')) return file !== undefined ? file : 'defaults';
    }
  };
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(issue.path);
    return issue.keys.map((key) => {
      const p = pathStr === '' ? key : `${pathStr}.${key}`;
      return {
        path: p,
        source: sourceOf(p),
        message: `unknown key${allowed.length > 0 ? `; allowed here: ${allowed.join(', ')}` : ''}`,
      };
    });
  }
  const input = (issue as { input?: unknown }).input;
  const missing = input === undefined && (issue.code === 'invalid_type' || issue.code === 'custom');
  const what = issue.message.replace(/^Invalid input: /, '');
  const message = missing ? `missing required key (${what})` : `got ${show(input)}: ${what}`;
  return [{ path: pathStr, source: sourceOf(pathStr), message }];
}

const isFlag = (source: string) => source.startsWith('-');

export function formatProblems(problems: ConfigProblem[]): string {
  return problems
    .map((p) =>
      isFlag(p.source)
        ? `${p.source}: ${p.message} (it sets ${p.path})`
        : `config error: ${p.path || '(top level)'}: ${p.message} [from ${p.source}]`,
    )
    .join('\n');
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!isPlainObject(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1] as string] = value;
}

/** Load, merge (defaults < file < environment) and validate the configuration. */
export function loadConfig(options: LoadOptions = {}): Config {
  const fromFile = options.file !== undefined ? readYaml(options.file) : {};
  const { tree: fromEnv, sources } = envOverrides(options.env ?? process.env);
  const merged = deepMerge(fromFile, fromEnv);
  for (const o of options.overrides ?? []) {
    setPath(merged, o.path, o.value);
    sources.set(o.path, o.source);
  }
  const result = configSchema.safeParse(merged, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((i) => formatIssue(i, sources, options.file));
  // Problems only with command-line flags are usage errors; any in the file or the
  // environment make it a configuration error.
  const code = problems.every((p) => isFlag(p.source))
    ? ErrorCodes.USAGE
    : ErrorCodes.CONFIG_INVALID;
  throw new ArchiveError(code, formatProblems(problems), { details: { problems } });
}

/** The configuration with secrets replaced, for `config show` and logs. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.kafka.sasl) copy.kafka.sasl.password = '***';
  if (copy.restore.target?.sasl) copy.restore.target.sasl.password = '***';
  if (copy.kafka.tls.keyPassword !== undefined) copy.kafka.tls.keyPassword = '***';
  if (copy.restore.target?.tls.keyPassword !== undefined)
    copy.restore.target.tls.keyPassword = '***';
  if (copy.storage.s3.secretAccessKey !== undefined) copy.storage.s3.secretAccessKey = '***';
  copy.server.auth.readTokens = copy.server.auth.readTokens.map(() => '***');
  copy.server.auth.adminTokens = copy.server.auth.adminTokens.map(() => '***');
  return copy;
}
