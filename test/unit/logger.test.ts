import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A logger writing JSON lines into memory. */
function capture(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const log = createLogger(level, stream);
  const last = () => JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  /**
   * Everything the lines say except their timestamp, for searching for leaked secrets: an ISO
   * time such as 2025-01-01T13:... would otherwise contain short markers like "T1". Only a real
   * timestamp is left out, so nothing else can hide in the `time` field.
   */
  const withoutTime = () => lines.map((line) => {
    const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
    expect(String(time)).toMatch(ISO_TIME);
    return JSON.stringify(rest);
  }).join('\n');
  return { log, lines, last, withoutTime };
}

describe('logger', () => {
  it('logger: a password at the top level or one level down is redacted', () => {
    const { log, lines, last } = capture();
    log.info({ username: 'alice', password: 'hunter2', form: { username: 'alice', password: 'hunter2' } }, 'sign-in');
    expect(lines.join('')).not.toContain('hunter2');
    expect(last()).toMatchObject({ username: 'alice', password: '[redacted]', form: { username: 'alice', password: '[redacted]' }, msg: 'sign-in' });
  });

  it('logger: the directory bindPassword is redacted wherever a config is logged', () => {
    const { log, lines, last, withoutTime } = capture();
    log.info({ bindPassword: 's1' }, 'a');
    log.info({ directory: { bindDn: 'cn=svc', bindPassword: 's2' } }, 'b');
    log.info({ config: { directory: { bindDn: 'cn=svc', bindPassword: 's3' } } }, 'c');
    expect(lines).toHaveLength(3);
    expect(withoutTime()).not.toMatch(/s1|s2|s3/);
    expect(last()).toMatchObject({ config: { directory: { bindDn: 'cn=svc', bindPassword: '[redacted]' } } });
  });

  it('logger: request cookies and authorization headers and response set-cookie are redacted', () => {
    const { log, lines, last } = capture();
    log.info(
      {
        req: { method: 'GET', url: '/', headers: { host: 'idp', cookie: 'fedgate_session=SESSIONID', authorization: 'Negotiate YIIKERBEROS' } },
        res: { statusCode: 302, headers: { 'set-cookie': 'fedgate_session=NEWSESSION; HttpOnly', location: '/x' } },
      },
      'request completed',
    );
    const text = lines.join('');
    for (const secret of ['SESSIONID', 'YIIKERBEROS', 'NEWSESSION']) expect(text).not.toContain(secret);
    expect(last()).toMatchObject({
      req: { headers: { host: 'idp', cookie: '[redacted]', authorization: '[redacted]' } },
      res: { headers: { 'set-cookie': '[redacted]', location: '/x' } },
    });
  });

  it('logger: tokens, private keys and posted protocol responses are redacted', () => {
    const { log, lines, withoutTime } = capture();
    log.info({ token: 'T1', privateKey: 'K1', wresult: 'W1', SAMLResponse: 'S1', body: { token: 'T2', wresult: 'W2', SAMLResponse: 'S2' } }, 'x');
    expect(lines).toHaveLength(1);
    expect(withoutTime()).not.toMatch(/T1|K1|W1|S1|T2|W2|S2/);
  });

  it('logger: lines carry the service name, a textual level and an ISO time; lower levels are dropped', () => {
    const { log, lines, last } = capture('info');
    log.debug('hidden');
    expect(lines).toHaveLength(0);
    log.warn({ count: 2 }, 'shown');
    expect(last()).toMatchObject({ service: 'fedgate', level: 'warn', count: 2, msg: 'shown' });
    expect(String(last().time)).toMatch(ISO_TIME);
  });
});

describe('logger: secrets anywhere', () => {
  it('censors secret-named properties at any depth and in arrays, without altering the logged objects', () => {
    const { log, lines, withoutTime } = capture();
    const logged = { deep: { a: { b: { Password: 'P1' } } }, list: [{ token: 'T3' }, 'plain'], headers: { Cookie: 'C1', Authorization: 'A1' } };
    log.info(logged, 'x');
    log.child({ req: { id: 'r1' } }).info({ form: { password: 'P2' } }, 'y');
    expect(lines).toHaveLength(2);
    expect(withoutTime()).not.toMatch(/P1|P2|T3|C1|A1/);
    expect(logged.deep.a.b.Password).toBe('P1');
    expect(JSON.parse(lines[0]!)).toMatchObject({ list: [{ token: '[redacted]' }, 'plain'], headers: { Cookie: '[redacted]' } });
  });

  it('censors secret-named properties of errors and of child bindings, at any generation', () => {
    const { log, lines, withoutTime } = capture();
    const err = Object.assign(new Error('refused'), { token: 'E1', headers: { authorization: 'E2' } });
    log.error({ err, error: Object.assign(new Error('x'), { password: 'E3' }) }, 'failed');
    log.child({ password: 'C1', req: { headers: { cookie: 'C2' } } }).child({ privateKey: 'C3' }).info('nested');
    expect(lines).toHaveLength(2);
    expect(withoutTime()).not.toMatch(/E1|E2|E3|C1|C2|C3/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ err: { message: 'refused', token: '[redacted]' } });
  });
});
