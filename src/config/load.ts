import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

/** Every problem found in a configuration, each with its key path. */
export class ConfigError extends Error {
  constructor(readonly source: string, readonly problems: readonly string[]) {
    super(`${source}: ${problems.length} configuration problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Keys naming files: resolved against the config file's folder, and checked to exist. */
const FILE_KEYS: readonly (readonly string[])[] = [
  ['server', 'tls', 'certFile'], ['server', 'tls', 'keyFile'],
  ['directory', 'path'], ['directory', 'tls', 'ca'],
  ['signing', 'keyFile'], ['signing', 'certFile'], ['signing', 'next', 'keyFile'], ['signing', 'next', 'certFile'],
  ['branding', 'logoFile'], ['authn', 'kerberos', 'keytab'], ['relyingParties', '*', 'metadataFile'], ['state', 'ca'],
];

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const yamlProblems = doc.errors.map((e) => describeYamlError(doc, e));
  // A duplicate key still leaves a readable document: report it with everything else found.
  if (doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) throw new ConfigError(path, yamlProblems);
  let config: Config;
  try {
    config = parseConfig(doc.toJS(), path, dirname(resolve(path)), env);
  } catch (err) {
    if (err instanceof ConfigError && yamlProblems.length > 0) throw new ConfigError(path, [...yamlProblems, ...err.problems]);
    throw err;
  }
  if (yamlProblems.length > 0) throw new ConfigError(path, yamlProblems);
  return config;
}

function describeYamlError(doc: Document, error: YAMLError): string {
  const firstLine = error.message.split('\n')[0];
  if (error.code !== 'DUPLICATE_KEY') return `YAML: ${firstLine}`;
  const keyPath = findKeyPath(doc.contents, error.pos[0], []);
  return `${keyPath ? keyPath.join('.') : '(top level)'}: duplicate key (YAML: ${firstLine})`;
}

/** The key path of the map key starting at `offset`, for reporting a YAML error at its path. */
function findKeyPath(node: unknown, offset: number, path: (string | number)[]): (string | number)[] | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) return [...path, key];
      const found = findKeyPath(pair.value, offset, [...path, key]);
      if (found) return found;
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const found = findKeyPath(item, offset, [...path, i]);
      if (found) return found;
    }
  }
  return undefined;
}

/** Validates a raw object (from YAML or the embedded demo): substitutions, schema, file paths. */
export function parseConfig(raw: unknown, source: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const substituted = substitute(raw, [], env, baseDir, problems);
  // Files are resolved before validation, so missing files are reported with schema problems.
  resolveFiles(substituted, baseDir, problems);
  const result = configSchema.safeParse(substituted);
  if (!result.success) {
    // A value whose substitution failed is reported once, not again as the schema's follow-on.
    const reported = new Set(problems.map((p) => p.slice(0, p.indexOf(': '))));
    for (const issue of result.error.issues) {
      // An unknown key is reported at its own path, where the person has to look for it.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
      for (const path of keys) {
        const at = path.length ? path.join('.') : '(top level)';
        if (!reported.has(at)) problems.push(`${at}: ${describeIssue(issue, valueAt(substituted, path))}`);
      }
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems);
  const config = result.data;
  config.dataDir = resolve(baseDir, config.dataDir);
  return config;
}

/** zod's messages, in the words of someone editing a YAML file. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === 'unrecognized_keys') return 'unknown key (misspelt, or not a fedgate setting)';
  if (issue.code !== 'invalid_type') return issue.message;
  const expected = issue.expected === 'string' ? 'a text value' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`;
  if (input === undefined) return `required: ${expected}`;
  return `expected ${expected}, got ${Array.isArray(input) ? 'a list' : input === null ? 'nothing' : `a ${typeof input}`}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined), root);
}

/**
 * `${VAR}` takes an environment variable, `${file:/path}` a file's contents (trailing newline
 * trimmed): secrets stay out of the YAML. A missing one is a problem at its key path.
 */
function substitute(value: unknown, path: (string | number)[], env: NodeJS.ProcessEnv, baseDir: string, problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{(file:)?([^}]+)\}/g, (_match, isFile: string | undefined, name: string) => {
      if (isFile) {
        try {
          return readFileSync(resolve(baseDir, name), 'utf8').replace(/\r?\n$/, '');
        } catch {
          problems.push(`${path.join('.')}: cannot read secret file ${name}`);
          return '';
        }
      }
      const v = env[name];
      if (v === undefined) problems.push(`${path.join('.')}: environment variable ${name} is not set`);
      return v ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, [...path, i], env, baseDir, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, [...path, k], env, baseDir, problems)]),
    );
  }
  return value;
}

/** Resolves and checks the raw (unvalidated) file keys; values of the wrong type are left to the schema. */
function resolveFiles(raw: unknown, baseDir: string, problems: string[]): void {
  const isRecord = (o: unknown): o is Record<string, unknown> => o !== null && typeof o === 'object' && !Array.isArray(o);
  // The parents a key path names, with their concrete paths: '*' stands for every item of a list.
  const parents = (keyPath: readonly string[]): { node: Record<string, unknown>; at: (string | number)[] }[] => {
    let nodes: { node: unknown; at: (string | number)[] }[] = [{ node: raw, at: [] }];
    for (const k of keyPath.slice(0, -1)) {
      nodes = nodes.flatMap(({ node, at }) => (k === '*'
        ? (Array.isArray(node) ? node.map((item, i) => ({ node: item as unknown, at: [...at, i] })) : [])
        : isRecord(node) ? [{ node: node[k], at: [...at, k] }] : []));
    }
    return nodes.filter((n): n is { node: Record<string, unknown>; at: (string | number)[] } => isRecord(n.node));
  };
  for (const keyPath of FILE_KEYS) {
    const key = keyPath[keyPath.length - 1]!;
    for (const { node: parent, at } of parents(keyPath)) {
      const value = parent[key];
      const files = Array.isArray(value) ? value : [value];
      if (!files.every((f): f is string => typeof f === 'string' && f !== '')) continue;
      const resolved = files.map((f) => (isAbsolute(f) ? f : resolve(baseDir, f)));
      for (const f of resolved) if (!existsSync(f)) problems.push(`${[...at, key].join('.')}: file not found: ${f}`);
      parent[key] = Array.isArray(value) ? resolved : resolved[0];
    }
  }
}
