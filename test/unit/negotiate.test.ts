import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { configSchema, type KerberosConfig } from '../../src/config/schema.js';
import { createNegotiatePolicy } from '../../src/authn/kerberos/negotiate-policy.js';
import { explainGssError, gssServiceName } from '../../src/authn/kerberos/negotiate-acceptor.js';
import type { PendingSignIn } from '../../src/core/pending-signin.js';
import { createLogger } from '../../src/observability/logger.js';

vi.mock('kerberos', () => { throw new Error('libgssapi_krb5.so.2: cannot open shared object file'); });

const kerberosConfig = (extra: Record<string, unknown> = {}): KerberosConfig =>
  configSchema.shape.authn.parse({ kerberos: { keytab: '/k', realms: ['EXAMPLE.COM'], ...extra } }).kerberos!;

const pending = (extra: Partial<PendingSignIn> = {}): PendingSignIn => ({ id: 'p', createdAt: 0, application: 'portal', resumePath: '/', ...extra });
const EDGE = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 Edg/130.0';

describe('negotiate policy', () => {
  const policy = createNegotiatePolicy(kerberosConfig({ upnSuffixes: {} }), (ip) => ip.startsWith('10.'));

  it('offers Negotiate only inside, to known agents (AD FS list + Windows browsers), never when a password or a new sign-in is demanded', () => {
    expect(policy.offer(pending(), { ip: '10.1.1.1', userAgent: EDGE })).toBe(true);
    expect(policy.offer(pending(), { ip: '10.1.1.1', userAgent: 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)' })).toBe(true);
    expect(policy.offer(pending(), { ip: '203.0.113.1', userAgent: EDGE })).toBe(false);
    expect(policy.offer(pending(), { ip: '10.1.1.1', userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Chrome/130.0' })).toBe(false);
    expect(policy.offer(pending(), { ip: '10.1.1.1', userAgent: undefined })).toBe(false);
    expect(policy.offer(pending({ requiredMethod: 'password' }), { ip: '10.1.1.1', userAgent: EDGE })).toBe(false);
    expect(policy.offer(pending({ forceFresh: true }), { ip: '10.1.1.1', userAgent: EDGE })).toBe(false);
    expect(createNegotiatePolicy(kerberosConfig({ enabled: false }), () => true).offer(pending(), { ip: '10.1.1.1', userAgent: EDGE })).toBe(false);
  });

  it('maps principals of accepted realms: sAMAccountName by default, UPN with a suffix; service principals and other realms are no one', () => {
    expect(policy.loginFor('alice@EXAMPLE.COM')).toBe('alice');
    expect(policy.loginFor('alice@example.com')).toBe('alice');
    expect(policy.loginFor('alice@OTHER.COM')).toBeUndefined();
    expect(policy.loginFor('HTTP/sts.example.com@EXAMPLE.COM')).toBeUndefined();
    expect(policy.loginFor('no-realm')).toBeUndefined();
    const upn = createNegotiatePolicy(kerberosConfig({ principalMapping: 'upn', upnSuffixes: { 'EXAMPLE.COM': 'example.org' } }), () => true);
    expect(upn.loginFor('alice@EXAMPLE.COM')).toBe('alice@example.org');
    expect(createNegotiatePolicy(kerberosConfig({ principalMapping: 'upn' }), () => true).loginFor('alice@EXAMPLE.COM')).toBe('alice@example.com');
  });
});

describe('negotiate acceptor', () => {
  it('names the GSS service from the principal, and explains the GSSAPI faults an admin must fix', () => {
    expect(gssServiceName('HTTP/sts.example.com')).toBe('HTTP@sts.example.com');
    expect(gssServiceName('HTTP/sts.example.com@EXAMPLE.COM')).toBe('HTTP@sts.example.com');
    expect(gssServiceName(undefined)).toBe('');
    expect(explainGssError('Clock skew too great')).toMatch(/NTP/);
    expect(explainGssError('Request ticket server HTTP/x@R kvno 3 not found in keytab')).toMatch(/setspn/);
  });

  it('when the kerberos module cannot load, fedgate runs with Kerberos reported unavailable', async () => {
    const { createNegotiateAcceptor } = await import('../../src/authn/kerberos/negotiate-acceptor.js');
    const keytab = join(mkdtempSync(join(tmpdir(), 'fedgate-kt-')), 'http.keytab');
    writeFileSync(keytab, 'x');
    const acceptor = await createNegotiateAcceptor(kerberosConfig({ keytab, servicePrincipal: 'HTTP/localhost' }), createLogger('silent'));
    expect(acceptor.status()).toEqual({ available: false, detail: expect.stringMatching(/kerberos module cannot load.*libkrb5-dev/) });
    expect(await acceptor.accept('YII=')).toMatchObject({ ok: false, reason: 'rejected' });
  });
});
