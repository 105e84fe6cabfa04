import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
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
  ['branding', 'logoFile'],
];

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(path, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  }
  return parseConfig(doc.toJS(), path, dirname(resolve(path)), env);
}

/** Validates a raw object (from YAML or the embedded demo): substitutions, schema, file paths. */
export function parseConfig(raw: unknown, source: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const substituted = substitute(raw, [], env, baseDir, problems);
  const result = configSchema.safeParse(substituted);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push(`${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems);
  const config = result.data;
  resolveFiles(config, baseDir, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);
  config.dataDir = resolve(baseDir, config.dataDir);
  return config;
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

function resolveFiles(config: Config, baseDir: string, problems: string[]): void {
  for (const keyPath of FILE_KEYS) {
    const parent = keyPath.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], config) as
      | Record<string, unknown>
      | undefined;
    const key = keyPath[keyPath.length - 1]!;
    const value = parent?.[key];
    if (value === undefined) continue;
    const files = Array.isArray(value) ? (value as string[]) : [value as string];
    const resolved = files.map((f) => (isAbsolute(f) ? f : resolve(baseDir, f)));
    for (const f of resolved) if (!existsSync(f)) problems.push(`${keyPath.join('.')}: file not found: ${f}`);
    parent![key] = Array.isArray(value) ? resolved : resolved[0];
  }
}
