import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { generateSigningCertificate } from '../../src/keys/generate-certificate.js';
import { generatedKeyPaths, loadKeyStore, writeGeneratedKey } from '../../src/keys/key-store.js';
import { watchKeyFiles } from '../../src/keys/key-watch.js';
import { createLogger } from '../../src/observability/logger.js';
import { METADATA_PATH, SAML_METADATA_PATH, metadataRoutes } from '../../src/protocols/wsfed/metadata-route.js';

/**
 * The key store follows its files while the process runs (key-watch.ts): `fedgate keys next` and
 * `promote` done elsewhere reach it, a set that does not load is ignored with a warning, and the
 * metadata documents are signed again for the new set.
 */
const DAY = 86_400_000;

const tempDir = () => mkdtempSync(join(tmpdir(), 'fedgate-reload-'));

function setup(signing: Record<string, unknown> = {}, dir = tempDir()) {
  writeFileSync(join(dir, 'users.yaml'), 'users: []\n');
  const config: Config = parseConfig({ server: { baseUrl: 'https://sts.example.com' }, dataDir: join(dir, 'data'), directory: { type: 'file', path: 'users.yaml' }, signing }, 'test', dir, {});
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } }));
  return { dir, config, log, lines };
}

const certBase64 = (file: string) => readFileSync(file, 'utf8').replace(/-----[^-]+-----|\s/g, '');

/** As `fedgate keys promote` does it: two renames, key first. */
function promoteKeyOnly(dataDir: string) {
  renameSync(generatedKeyPaths(dataDir, 'next').keyFile, generatedKeyPaths(dataDir, 'current').keyFile);
}
function promoteCert(dataDir: string) {
  renameSync(generatedKeyPaths(dataDir, 'next').certFile, generatedKeyPaths(dataDir, 'current').certFile);
}

describe('key reload', () => {
  it('follows keys next and promote (generated keys), ignoring the mismatched pair between the two renames', async () => {
    const { config, log, lines } = setup();
    const keys = await loadKeyStore(config, log);
    const watch = watchKeyFiles(keys, config, log, 60_000);
    try {
      await watch.check();
      const first = keys.current;
      expect(keys.generation).toBe(0);

      await writeGeneratedKey(config.dataDir, 'next', 'sts.example.com', 30 * DAY);
      await watch.check();
      expect(keys.generation).toBe(1);
      expect(keys.current).toBe(first);
      expect(keys.next?.certificateBase64).toBe(certBase64(generatedKeyPaths(config.dataDir, 'next').certFile));
      const next = keys.next!;
      expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'token-signing keys reloaded: the key files changed', generation: 1 });

      promoteKeyOnly(config.dataDir);
      await watch.check();
      expect(keys.generation).toBe(1);
      expect(keys.current).toBe(first);
      expect(lines.at(-1)).toMatchObject({ level: 'warn', msg: 'the key files changed but do not load: still signing with the previous keys' });
      expect(String(lines.at(-1)!.detail)).toContain('key and certificate differ');

      promoteCert(config.dataDir);
      await watch.check();
      expect(keys.generation).toBe(2);
      expect(keys.current.certificateBase64).toBe(next.certificateBase64);
      expect(keys.current.privateKey.equals(next.privateKey)).toBe(true);
      expect(keys.next).toBeUndefined();
    } finally {
      watch.stop();
    }
  });

  it('a half-written or missing file is ignored with a warning; an unchanged rewrite is no reload', async () => {
    const { config, log, lines } = setup();
    const keys = await loadKeyStore(config, log);
    const watch = watchKeyFiles(keys, config, log, 60_000);
    try {
      await watch.check();
      const warnings = () => lines.filter((l) => l.level === 'warn' && String(l.msg).includes('do not load'));
      const paths = generatedKeyPaths(config.dataDir, 'current');
      const certPem = readFileSync(paths.certFile, 'utf8');
      writeFileSync(paths.certFile, certPem.slice(0, 300));
      await watch.check();
      expect(warnings()).toHaveLength(1);
      expect(keys.generation).toBe(0);
      // Reload never generates a key in place of a missing one.
      renameSync(paths.keyFile, `${paths.keyFile}.away`);
      await watch.check();
      expect(keys.generation).toBe(0);
      expect(warnings()).toHaveLength(2);
      renameSync(`${paths.keyFile}.away`, paths.keyFile);
      writeFileSync(paths.certFile, certPem);
      await watch.check();
      expect(keys.generation).toBe(0);
      expect(lines.filter((l) => l.level === 'info' && String(l.msg).includes('reloaded'))).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  it('follows configured files (signing.keyFile/certFile, next) replaced in place', async () => {
    const dir = tempDir();
    const [a, b] = await Promise.all([generateSigningCertificate('a.example.com', 30 * DAY), generateSigningCertificate('b.example.com', 30 * DAY)]);
    for (const [name, pem] of [['cur.key', a.keyPem], ['cur.crt', a.certPem], ['nxt.key', b.keyPem], ['nxt.crt', b.certPem]] as const) writeFileSync(join(dir, name), pem);
    const { config, log } = setup({ keyFile: 'cur.key', certFile: 'cur.crt', next: { keyFile: 'nxt.key', certFile: 'nxt.crt' } }, dir);
    const keys = await loadKeyStore(config, log);
    const watch = watchKeyFiles(keys, config, log, 60_000);
    try {
      await watch.check();
      const c = await generateSigningCertificate('c.example.com', 30 * DAY);
      // The operator's promote: b becomes current, c next.
      for (const [name, pem] of [['cur.key', b.keyPem], ['cur.crt', b.certPem], ['nxt.key', c.keyPem], ['nxt.crt', c.certPem]] as const) writeFileSync(join(dir, name), pem);
      await watch.check();
      expect(keys.generation).toBe(1);
      expect(keys.current.certificate.subject).toContain('b.example.com');
      expect(keys.next?.certificate.subject).toContain('c.example.com');
    } finally {
      watch.stop();
    }
  });

  it('the metadata documents list and are signed with the reloaded keys', async () => {
    const { config, log } = setup();
    const keys = await loadKeyStore(config, log);
    const app = express().use(metadataRoutes(config, keys));
    const before = await request(app).get(METADATA_PATH);
    expect(before.text).toContain(keys.current.certificateBase64);
    await writeGeneratedKey(config.dataDir, 'next', 'sts.example.com', 30 * DAY);
    expect((await request(app).get(SAML_METADATA_PATH)).text).not.toContain(certBase64(generatedKeyPaths(config.dataDir, 'next').certFile));
    expect(keys.reload()).toBe(true);
    for (const path of [METADATA_PATH, SAML_METADATA_PATH]) {
      const text = (await request(app).get(path)).text;
      expect(text).toContain(keys.current.certificateBase64);
      expect(text).toContain(keys.next!.certificateBase64);
    }
    promoteKeyOnly(config.dataDir);
    promoteCert(config.dataDir);
    expect(keys.reload()).toBe(true);
    const after = (await request(app).get(METADATA_PATH)).text;
    // Signed with the new current key: its certificate is the signature's KeyInfo, and the only one listed.
    expect(after.match(/<X509Certificate>([^<]+)<\/X509Certificate>/g)!.every((c) => c.includes(keys.current.certificateBase64))).toBe(true);
    expect(after).not.toContain(before.text.match(/<X509Certificate>([^<]+)</)![1]);
  });
});
