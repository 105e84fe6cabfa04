import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The `fedgate` command as a user runs it: a real process, real port, real signals. */
const CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'test/harness/run-cli.ts')];

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'fedgate-cli-'));
}

describe('fedgate command', () => {
  it('serve --config with a broken file prints every problem with its key path and exits non-zero', () => {
    const dir = tmp();
    const file = join(dir, 'fedgate.yaml');
    writeFileSync(file, [
      'server:',
      '  baseUrl: not-a-url',
      '  listen: 8080',
      'directory:',
      '  type: ldap',
      '  urls: [http://dc1.example.com]',
      '  bindPassword: ${FEDGATE_TEST_UNSET_VARIABLE}',
      'session:',
      '  lifetime: forever',
      'unknownKey: 1',
    ].join('\n'));
    const run = spawnSync(process.execPath, [...CLI, 'serve', '--config', file], { encoding: 'utf8', env: { ...process.env, FEDGATE_TEST_UNSET_VARIABLE: undefined } });
    expect(run.status).not.toBe(0);
    for (const path of ['server.baseUrl', 'server.listen', 'directory.urls.0', 'directory.bindDn', 'directory.userBase',
      'directory.bindPassword: environment variable FEDGATE_TEST_UNSET_VARIABLE is not set', 'session.lifetime', 'unknownKey']) {
      expect(run.stderr, path).toContain(path);
    }
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('check-config accepts a valid file', () => {
    const dir = tmp();
    const file = join(dir, 'fedgate.yaml');
    writeFileSync(file, `server: { baseUrl: "https://sts.example.com" }\ndirectory: { type: file, path: ${join(process.cwd(), 'examples/demo-users.yaml')} }\n`);
    const run = spawnSync(process.execPath, [...CLI, 'check-config', '--config', file], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('configuration is valid');
  });

  it('hash-password prints a hash the file directory accepts', async () => {
    const run = spawnSync(process.execPath, [...CLI, 'hash-password'], { input: 'S3cret!\n', encoding: 'utf8' });
    expect(run.status).toBe(0);
    const { verifyPassword } = await import('../../src/directory/file/password-hash.js');
    expect(await verifyPassword('S3cret!', run.stdout.trim())).toBe(true);
  });

  it('without a configuration, serve runs the demo (PORT overrides), answers, and stops cleanly on SIGTERM', async () => {
    const cwd = tmp();
    const port = 21000 + Math.floor(Math.random() * 900);
    const child = spawn(process.execPath, [...CLI, 'serve'], {
      cwd, env: { ...process.env, PORT: String(port), FEDGATE_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => out, { timeout: 20_000 }).toContain('fedgate is listening');
      expect(out).toContain('Demo-alice-1'); // credentials printed at start
      expect(out).toContain('DEMO');
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok' });
      const home = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      expect(home).toContain('DEMO MODE');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"stopped"');
  });
});
