import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfigFile } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');
const ENV = { FEDGATE_LDAP_PASSWORD: 'example-service-password' };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedgate-examples-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Loads a copy of an example in an empty folder: the only problems allowed are the files it
 * references (keys, CA, logo); those are then created as placeholders and the copy must load.
 */
function loadExample(name: string) {
  const path = join(dir, name);
  copyFileSync(join(EXAMPLES, name), path);
  let missing: string[] = [];
  try {
    return { config: loadConfigFile(path, ENV), placeholders: missing };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const notFiles = err.problems.filter((p) => !/: file not found: /.test(p));
    expect(notFiles).toEqual([]);
    missing = err.problems.map((p) => p.split(': file not found: ')[1]!);
  }
  for (const file of missing) {
    expect(file.startsWith(dir)).toBe(true);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'placeholder\n');
  }
  return { config: loadConfigFile(path, ENV), placeholders: missing };
}

/** Every object key the schema accepts, with its dotted path (array items as []). */
function schemaKeys(schema: z.ZodType, path: string[] = []): string[][] {
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape as Record<string, z.ZodType>).flatMap(([key, value]) => [[...path, key], ...schemaKeys(value, [...path, key])]);
  }
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault || schema instanceof z.ZodNullable) return schemaKeys(schema.unwrap() as z.ZodType, path);
  if (schema instanceof z.ZodPipe) return schemaKeys(schema.in as z.ZodType, path);
  if (schema instanceof z.ZodArray) return schemaKeys(schema.element as z.ZodType, [...path, '[]']);
  if (schema instanceof z.ZodUnion) return (schema.options as readonly z.ZodType[]).flatMap((o) => schemaKeys(o, path));
  return [];
}

describe('examples', () => {
  it('examples: fedgate.yaml (AD over LDAPS) parses, with the service password from the environment', () => {
    const { config, placeholders } = loadExample('fedgate.yaml');
    expect(placeholders.map((p) => p.slice(dir.length + 1)).sort()).toEqual(['pki/corp-root-ca.pem', 'pki/http.keytab', 'pki/token-signing.crt', 'pki/token-signing.key']);
    if (config.directory.type !== 'ldap') throw new Error('expected an ldap directory');
    expect(config.directory.bindPassword).toBe(ENV.FEDGATE_LDAP_PASSWORD);
    expect(config.directory.urls).toHaveLength(2);
    expect(config.directory.urls.every((u) => u.startsWith('ldaps://'))).toBe(true);
    expect(config.directory.tls).toEqual({ ca: join(dir, 'pki', 'corp-root-ca.pem'), startTls: false, rejectUnauthorized: true });
    expect(config.signing.keyFile).toBe(join(dir, 'pki', 'token-signing.key'));
    expect(config.session).toMatchObject({ lifetime: 8 * 3_600_000, keepMeSignedIn: false });
    expect(config.relyingParties.map((rp) => [rp.protocol, rp.identifier])).toEqual([
      ['wsfed', 'urn:federation:MicrosoftOnline'], ['wsfed', 'urn:example:intranet'],
    ]);
    expect(config.demo).toBe(false);
  });

  it('examples: fedgate.yaml without FEDGATE_LDAP_PASSWORD is refused at directory.bindPassword', () => {
    copyFileSync(join(EXAMPLES, 'fedgate.yaml'), join(dir, 'fedgate.yaml'));
    try {
      loadConfigFile(join(dir, 'fedgate.yaml'), {});
      expect.unreachable('the example loaded without its password');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toContain('directory.bindPassword: environment variable FEDGATE_LDAP_PASSWORD is not set');
    }
  });

  it('examples: openldap.yaml parses with memberOf groups and StartTLS', () => {
    const { config } = loadExample('openldap.yaml');
    if (config.directory.type !== 'ldap') throw new Error('expected an ldap directory');
    expect(config.directory.groups.strategy).toBe('memberOf');
    expect(config.directory.tls.startTls).toBe(true);
    expect(config.directory.sourceAnchor).toEqual(['entryUUID']);
    expect(config.signing.keyFile).toBeUndefined();
  });

  it('examples: fedgate.yaml documents every key of the configuration schema', () => {
    const text = readFileSync(join(EXAMPLES, 'fedgate.yaml'), 'utf8');
    const keys = schemaKeys(configSchema);
    expect(keys.length).toBeGreaterThan(50);
    const undocumented = keys.filter(([...p]) => !new RegExp(`^[\\s#-]*${p[p.length - 1]}:`, 'm').test(text)).map((p) => p.join('.'));
    expect(undocumented).toEqual([]);
  });
});
