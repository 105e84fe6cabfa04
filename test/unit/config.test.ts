import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.js';
import { parseDuration } from '../../src/config/schema.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedgate-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const MINIMAL = `
server:
  baseUrl: https://idp.example.com/
directory:
  type: ldap
  urls: [ldaps://dc1.example.com]
  bindDn: CN=svc-fedgate,OU=Service,DC=example,DC=com
  bindPassword: secret
  userBase: DC=example,DC=com
`;

function writeConfig(text: string, name = 'fedgate.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The ConfigError a call throws (fails the test when it throws nothing or something else). */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but the configuration was accepted');
}

const hasProblem = (err: ConfigError, path: string, text?: RegExp) =>
  err.problems.some((p) => p.startsWith(`${path}: `) && (text === undefined || text.test(p)));

describe('config: defaults', () => {
  it('config: a valid minimal file parses with secure defaults', () => {
    const config = loadConfigFile(writeConfig(MINIMAL), {});
    expect(config.server.baseUrl).toBe('https://idp.example.com');
    expect(config.server.listen).toBe('127.0.0.1:8080');
    expect(config.server.trustProxy).toBe(false);
    expect(config.session.lifetime).toBe(8 * 3_600_000);
    expect(config.session.idleTimeout).toBe(3_600_000);
    expect(config.session.keepMeSignedIn).toBe(false);
    expect(config.session.keepMeSignedInLifetime).toBe(24 * 3_600_000);
    expect(config.session.cookieName).toBe('fedgate_session');
    expect(config.signing.generatedValidity).toBe(365 * 86_400_000);
    expect(config.signIn).toEqual({ maxAttemptsPerIpPerMinute: 30, maxFailuresPerUser: 5, failureWindow: 900_000, maxStartsPerIpPerMinute: 600, pendingLifetime: 900_000, unfamiliarMaxFailuresPerUser: 3, familiarAddressLifetime: 14 * 86_400_000 });
    expect(config.state).toEqual({ type: 'memory' });
    expect(config.metrics).toEqual({ enabled: true, allow: [] });
    expect(config.wsTrust).toEqual({ usernameMixed: true, windowsTransport: true, clockSkew: 300_000 });
    expect(config.relyingParties).toEqual([]);
    expect(config.logging.level).toBe('info');
    expect(config.demo).toBe(false);
    expect(config.dataDir).toBe(join(dir, 'data'));
    if (config.directory.type !== 'ldap') throw new Error('expected an ldap directory');
    expect(config.directory.sourceAnchor).toEqual(['mS-DS-ConsistencyGuid', 'objectGUID']);
    expect(config.directory.tls).toEqual({ startTls: false, rejectUnauthorized: true });
    expect(config.directory.groups.strategy).toBe('in-chain');
    expect(config.directory.loginAttributes).toEqual(['userPrincipalName', 'sAMAccountName', 'mail']);
  });

  it('config: a single sourceAnchor mS-DS-ConsistencyGuid falls back to objectGUID, another attribute stands alone', () => {
    const base = { server: { baseUrl: 'https://idp.example.com' } };
    const ldap = { type: 'ldap', urls: ['ldap://dc1'], bindDn: 'cn=x', bindPassword: 'p', userBase: 'dc=x' };
    const consistency = parseConfig({ ...base, directory: { ...ldap, sourceAnchor: 'mS-DS-ConsistencyGuid' } }, 't', dir, {});
    const custom = parseConfig({ ...base, directory: { ...ldap, sourceAnchor: 'employeeID' } }, 't', dir, {});
    expect(consistency.directory.type === 'ldap' && consistency.directory.sourceAnchor).toEqual(['mS-DS-ConsistencyGuid', 'objectGUID']);
    expect(custom.directory.type === 'ldap' && custom.directory.sourceAnchor).toEqual(['employeeID']);
  });
});

describe('config: errors', () => {
  it('config: a broken file reports every problem with its key path in one ConfigError', () => {
    const path = writeConfig(`
server:
  baseUrl: not a url
  listen: 8080
  colour: blue
directory:
  type: ldap
  urls: [ldaps://dc1.example.com]
  bindDn: CN=svc
  userBase: DC=example,DC=com
  poolSize: many
session:
  lifetime: forever
  keepMeSignedIn: yes please
  lifetime: 8h
`);
    const err = configErrorOf(() => loadConfigFile(path, {}));
    expect(err.source).toBe(path);
    expect(hasProblem(err, 'server.baseUrl')).toBe(true);
    expect(hasProblem(err, 'server.listen')).toBe(true);
    expect(hasProblem(err, 'server.colour', /unknown key/)).toBe(true);
    expect(hasProblem(err, 'directory.bindPassword')).toBe(true);
    expect(hasProblem(err, 'directory.poolSize')).toBe(true);
    expect(hasProblem(err, 'session.keepMeSignedIn')).toBe(true);
    expect(hasProblem(err, 'session.lifetime', /duplicate|unique/i)).toBe(true);
    expect(err.problems.length).toBeGreaterThanOrEqual(7);
    for (const problem of err.problems) expect(err.message).toContain(problem);
  });

  it('config: a missing required section and an unknown top-level key are reported at their paths', () => {
    const err = configErrorOf(() => parseConfig({ server: { baseUrl: 'ftp://idp.example.com' }, extra: 1 }, 'inline', dir, {}));
    expect(hasProblem(err, 'server.baseUrl')).toBe(true);
    expect(hasProblem(err, 'directory', /required/)).toBe(true);
    expect(hasProblem(err, 'extra', /unknown key/)).toBe(true);
  });

  it('config: a file that is not YAML is reported without a stack of follow-on errors', () => {
    const err = configErrorOf(() => loadConfigFile(writeConfig('server: [unclosed\n  baseUrl: x\n'), {}));
    expect(err.problems.length).toBeGreaterThan(0);
    expect(err.problems.every((p) => p.startsWith('YAML'))).toBe(true);
  });

  it('config: an unreadable config file is a ConfigError naming the file', () => {
    const missing = join(dir, 'nope.yaml');
    const err = configErrorOf(() => loadConfigFile(missing, {}));
    expect(err.source).toBe(missing);
    expect(err.problems[0]).toMatch(/ENOENT/);
  });

  it('config: setting only one of signing.keyFile and signing.certFile is refused', () => {
    writeFileSync(join(dir, 'key.pem'), 'x');
    const err = configErrorOf(() => loadConfigFile(writeConfig(`${MINIMAL}signing:\n  keyFile: key.pem\n`), {}));
    expect(err.problems.some((p) => /both keyFile and certFile/.test(p))).toBe(true);
  });

  it('config: several workers over memory state are refused (each would have its own sessions); redis needs a redis URL', () => {
    const workers = configErrorOf(() => loadConfigFile(writeConfig(MINIMAL.replace('server:\n', 'server:\n  workers: 4\n')), {}));
    expect(workers.problems).toContainEqual(expect.stringMatching(/^server\.workers: several workers need state\.type redis/));
    const redis = configErrorOf(() => loadConfigFile(writeConfig(`${MINIMAL}state:\n  type: redis\n  url: http://redis\n`), {}));
    expect(redis.problems).toContainEqual(expect.stringMatching(/^state\.url/));
    const ok = loadConfigFile(writeConfig(`${MINIMAL}state:\n  type: redis\n  url: redis://127.0.0.1:6379\n`), {});
    expect(ok.state).toEqual({ type: 'redis', url: 'redis://127.0.0.1:6379', mode: 'standalone', keyPrefix: 'fedgate:' });
    expect(ok.server.workers).toBe('auto');
  });
});

describe('config: substitutions', () => {
  it('config: ${VAR} takes the environment variable, also inside a longer string', () => {
    const config = loadConfigFile(
      writeConfig(MINIMAL.replace('bindPassword: secret', 'bindPassword: ${FEDGATE_LDAP_PASSWORD}').replace('https://idp.example.com/', 'https://${HOST}/')),
      { FEDGATE_LDAP_PASSWORD: 'p@ss w0rd', HOST: 'login.example.org' },
    );
    expect(config.directory.type === 'ldap' && config.directory.bindPassword).toBe('p@ss w0rd');
    expect(config.server.baseUrl).toBe('https://login.example.org');
  });

  it('config: a missing environment variable is reported at its key path', () => {
    const err = configErrorOf(() =>
      loadConfigFile(writeConfig(MINIMAL.replace('bindPassword: secret', 'bindPassword: ${FEDGATE_LDAP_PASSWORD}')), {}),
    );
    expect(err.problems.filter((p) => p.startsWith('directory.bindPassword: '))).toEqual([
      'directory.bindPassword: environment variable FEDGATE_LDAP_PASSWORD is not set',
    ]);
  });

  it('config: ${file:path} reads a secret relative to the config folder, trailing newline trimmed', () => {
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'ldap'), 'from-a-file\n');
    const config = loadConfigFile(writeConfig(MINIMAL.replace('bindPassword: secret', 'bindPassword: ${file:secrets/ldap}')), {});
    expect(config.directory.type === 'ldap' && config.directory.bindPassword).toBe('from-a-file');
  });

  it('config: ${file:path} with an absolute path and CRLF ending', () => {
    const secret = join(dir, 'abs-secret');
    writeFileSync(secret, 'windows-secret\r\n');
    const config = parseConfig(
      { server: { baseUrl: 'https://idp.example.com' }, directory: { type: 'ldap', urls: ['ldap://dc1'], bindDn: 'cn=x', bindPassword: `\${file:${secret}}`, userBase: 'dc=x' } },
      'inline', '/nonexistent', {},
    );
    expect(config.directory.type === 'ldap' && config.directory.bindPassword).toBe('windows-secret');
  });

  it('config: a missing secret file is reported at its key path', () => {
    const err = configErrorOf(() => loadConfigFile(writeConfig(MINIMAL.replace('bindPassword: secret', 'bindPassword: ${file:secrets/none}')), {}));
    expect(hasProblem(err, 'directory.bindPassword', /cannot read secret file secrets\/none/)).toBe(true);
  });

  it('config: substitution problems in list items carry the item index', () => {
    const err = configErrorOf(() => loadConfigFile(writeConfig(MINIMAL.replace('[ldaps://dc1.example.com]', '[ldaps://dc1.example.com, "${DC2}"]')), {}));
    expect(hasProblem(err, 'directory.urls.1', /DC2/)).toBe(true);
  });
});

describe('config: file paths', () => {
  it('config: relative file paths are resolved against the config file folder', () => {
    mkdirSync(join(dir, 'pki'));
    for (const f of ['ca.pem', 'key.pem', 'cert.pem', 'next-key.pem', 'next-cert.pem', 'logo.svg']) writeFileSync(join(dir, 'pki', f), 'x');
    const config = loadConfigFile(
      writeConfig(`${MINIMAL}  tls:
    ca: pki/ca.pem
signing:
  keyFile: pki/key.pem
  certFile: ${join(dir, 'pki', 'cert.pem')}
  next: { keyFile: ./pki/next-key.pem, certFile: pki/next-cert.pem }
branding:
  logoFile: pki/logo.svg
dataDir: /var/lib/fedgate
`),
      {},
    );
    expect(config.directory.type === 'ldap' && config.directory.tls.ca).toBe(join(dir, 'pki', 'ca.pem'));
    expect(config.signing.keyFile).toBe(join(dir, 'pki', 'key.pem'));
    expect(config.signing.certFile).toBe(join(dir, 'pki', 'cert.pem'));
    expect(config.signing.next).toEqual({ keyFile: join(dir, 'pki', 'next-key.pem'), certFile: join(dir, 'pki', 'next-cert.pem') });
    expect(config.branding.logoFile).toBe(join(dir, 'pki', 'logo.svg'));
    expect(config.dataDir).toBe('/var/lib/fedgate');
  });

  it('config: missing files are each reported at their key path', () => {
    writeFileSync(join(dir, 'ca1.pem'), 'x');
    const err = configErrorOf(() =>
      loadConfigFile(
        writeConfig(`${MINIMAL}  tls:
    ca: [ca1.pem, ca2.pem]
signing:
  keyFile: key.pem
  certFile: cert.pem
`),
        {},
      ),
    );
    expect(hasProblem(err, 'directory.tls.ca', /ca2\.pem/)).toBe(true);
    expect(err.problems.some((p) => /ca1\.pem/.test(p))).toBe(false);
    expect(hasProblem(err, 'signing.keyFile', new RegExp(join(dir, 'key.pem')))).toBe(true);
    expect(hasProblem(err, 'signing.certFile')).toBe(true);
  });

  it('config: missing files are reported together with schema problems', () => {
    const err = configErrorOf(() =>
      loadConfigFile(writeConfig(`${MINIMAL}  poolSize: 0\nbranding:\n  logoFile: logo.png\n`), {}),
    );
    expect(hasProblem(err, 'directory.poolSize')).toBe(true);
    expect(hasProblem(err, 'branding.logoFile', /file not found/)).toBe(true);
  });

  it('config: the file directory path is resolved and checked', () => {
    writeFileSync(join(dir, 'users.yaml'), 'users: []\n');
    const ok = loadConfigFile(writeConfig('server: { baseUrl: "http://localhost:8080" }\ndirectory: { type: file, path: users.yaml }\n'), {});
    expect(ok.directory.type === 'file' && ok.directory.path).toBe(join(dir, 'users.yaml'));
    const err = configErrorOf(() => loadConfigFile(writeConfig('server: { baseUrl: "http://localhost:8080" }\ndirectory: { type: file, path: gone.yaml }\n'), {}));
    expect(hasProblem(err, 'directory.path', /file not found/)).toBe(true);
  });
});

describe('config: durations', () => {
  it('config: durations accept 30s, 15m, 8h, 7d, 250ms and plain numbers as seconds', () => {
    const config = loadConfigFile(
      writeConfig(`${MINIMAL}  connectTimeout: 30s
  operationTimeout: 250ms
  deadServerRetry: 2
session:
  lifetime: 8h
  idleTimeout: 15m
  keepMeSignedInLifetime: 7d
signIn:
  failureWindow: 90
`),
      {},
    );
    if (config.directory.type !== 'ldap') throw new Error('expected an ldap directory');
    expect(config.directory.connectTimeout).toBe(30_000);
    expect(config.directory.operationTimeout).toBe(250);
    expect(config.directory.deadServerRetry).toBe(2_000);
    expect(config.session.lifetime).toBe(28_800_000);
    expect(config.session.idleTimeout).toBe(900_000);
    expect(config.session.keepMeSignedInLifetime).toBe(604_800_000);
    expect(config.signIn.failureWindow).toBe(90_000);
  });

  it('config: malformed, negative and fractional durations are refused at their paths', () => {
    const err = configErrorOf(() =>
      loadConfigFile(writeConfig(`${MINIMAL}session:\n  lifetime: 8 hours\n  idleTimeout: -5\n  keepMeSignedInLifetime: 1.5\n`), {}),
    );
    expect(hasProblem(err, 'session.lifetime')).toBe(true);
    expect(hasProblem(err, 'session.idleTimeout')).toBe(true);
    expect(hasProblem(err, 'session.keepMeSignedInLifetime')).toBe(true);
  });

  it('config: parseDuration converts each unit and rejects other text', () => {
    expect(parseDuration('1ms')).toBe(1);
    expect(parseDuration('1s')).toBe(1000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(() => parseDuration('1w')).toThrow(/not a duration/);
    expect(() => parseDuration('')).toThrow(/not a duration/);
  });
});
