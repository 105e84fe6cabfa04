import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS_FILE } from '../../src/cli/embedded-demo.js';
import { parseConfig } from '../../src/config/load.js';
import type { KeyStore } from '../../src/keys/key-store.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { instrumentStore, serverLabel } from '../../src/observability/metrics-backends.js';
import { createMemoryStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { parseExposition, valueOf } from '../http/metrics-app.js';

/** The label rules of the metrics: bounded values, the protocol of each token endpoint, timed store calls. */
function metricsFor(raw: Record<string, unknown> = {}) {
  const config = parseConfig({ server: { baseUrl: 'https://sts.example.org' }, dataDir: '/nonexistent', directory: { type: 'file', path: DEMO_USERS_FILE }, ...raw }, 'test', '/nonexistent', {});
  const day = 86_400_000;
  const keys = { current: { notAfter: new Date(Date.now() + 40 * day) }, next: { notAfter: new Date(Date.now() + 400 * day) } } as unknown as KeyStore;
  const metrics = createMetrics(config, keys);
  return { metrics, samples: async () => parseExposition(await metrics.registry.metrics()) };
}

const fakeRequest = (url: string, body?: unknown) => ({ originalUrl: url, body }) as Request;

describe('token endpoint latency', () => {
  it('labels each protocol\'s token endpoints, whatever the case or trailing slash, and nothing else', async () => {
    const { metrics, samples } = metricsFor();
    const seen = (url: string, body?: unknown, status = 200) => metrics.observeRequest(fakeRequest(url, body), status, 0.01);
    seen('/adfs/ls/?wa=wsignin1.0&wtrealm=x');
    seen('/ADFS/LS/?wa=wsignin1.0', undefined, 303);
    seen('/adfs/ls/resume?pending=p');
    seen('/adfs/ls/', { SAMLRequest: 'x' }); // POST binding: the message in the form body
    seen('/saml/sso?SAMLRequest=x');
    seen('/saml/resume?pending=p');
    seen('/adfs/services/trust/13/usernamemixed', Buffer.from('<soap/>'));
    seen('/adfs/services/trust/2005/windowstransport/', Buffer.from('<soap/>'), 401);
    seen('/oidc/token', {}, 400);
    // Not token endpoints: sign-out, MEX, the form, metadata, health, a path with a user in it.
    for (const url of ['/adfs/ls/?wa=wsignout1.0', '/adfs/services/trust/mex', '/login', '/FederationMetadata/2007-06/FederationMetadata.xml', '/readyz', '/adfs/ls/alice']) seen(url);
    const s = await samples();
    const count = (labels: Record<string, string>) => valueOf(s, 'fedgate_token_request_duration_seconds_count', labels);
    expect([count({ protocol: 'wsfed', status: '2xx' }), count({ protocol: 'wsfed', status: '3xx' })]).toEqual([2, 1]);
    expect(count({ protocol: 'saml' })).toBe(3);
    expect([count({ protocol: 'wstrust', status: '2xx' }), count({ protocol: 'wstrust', status: '4xx' })]).toEqual([1, 1]);
    expect(count({ protocol: 'oidc', status: '4xx' })).toBe(1);
    expect(count({})).toBe(9);
  });
});

describe('sign-ins counted from audit events', () => {
  it('an application the configuration does not name is "other"; an outcome outside the directory\'s list is "failure"; sign-outs are not sign-ins', async () => {
    const { metrics, samples } = metricsFor({ relyingParties: [{ protocol: 'wsfed', identifier: 'urn:app', replyUrls: ['https://app.example.org/'] }] });
    metrics.auditListener({ type: 'signin.failure', application: 'urn:app', outcome: 'disabled', user: 'alice' });
    metrics.auditListener({ type: 'signin.failure', application: 'urn:app', outcome: 'something new' });
    metrics.auditListener({ type: 'signin.success', application: 'urn:forged-by-a-client' });
    metrics.auditListener({ type: 'signin.directory_unavailable', outcome: 'ldap://dc1: ECONNREFUSED' });
    metrics.auditListener({ type: 'signout', application: 'urn:app' });
    const s = await samples();
    const signIns = s.filter((x) => x.name === 'fedgate_signins_total').map((x) => x.labels);
    expect(signIns).toEqual(expect.arrayContaining([
      { protocol: 'wsfed', application: 'urn:app', outcome: 'disabled' },
      { protocol: 'wsfed', application: 'urn:app', outcome: 'failure' },
      { protocol: 'unknown', application: 'other', outcome: 'success' },
      { protocol: 'portal', application: 'portal', outcome: 'directory-unavailable' },
    ]));
    expect(signIns).toHaveLength(4);
  });

  it('an identifier two protocols share (Entra over WS-Fed and SAML) is labelled with both', async () => {
    const entra = (protocol: string, domain: string) => ({ protocol, profile: 'entra', domains: [domain] });
    const { metrics, samples } = metricsFor({ relyingParties: [entra('wsfed', 'contoso.com'), entra('saml', 'fabrikam.com')] });
    metrics.auditListener({ type: 'sso.reused', application: 'urn:federation:MicrosoftOnline' });
    expect(valueOf(await samples(), 'fedgate_signins_total', { protocol: 'wsfed|saml', outcome: 'sso' })).toBe(1);
  });
});

describe('certificate days left', () => {
  it('current and next, read at each scrape', async () => {
    const s = await metricsFor().samples();
    expect(valueOf(s, 'fedgate_signing_certificate_days_left', { certificate: 'current' })).toBeCloseTo(40, 1);
    expect(valueOf(s, 'fedgate_signing_certificate_days_left', { certificate: 'next' })).toBeCloseTo(400, 1);
  });
});

describe('instrumentStore', () => {
  it('times every operation, counts failures, and passes on what it does not time (an optional method stays absent)', async () => {
    const { metrics, samples } = metricsFor();
    const store = instrumentStore(createMemoryStore(), metrics);
    await store.set('k', 1, 1000);
    expect(await store.get('k')).toBe(1);
    expect(await store.increment('n', 1000)).toBe(1);
    expect('checkHealth' in store).toBe(false);
    const failing = instrumentStore({ ...createMemoryStore(), get: () => Promise.reject(new Error('redis down')) } as StateStore, metrics);
    await expect(failing.get('k')).rejects.toThrow('redis down');
    const s = await samples();
    for (const operation of ['set', 'increment']) expect(valueOf(s, 'fedgate_state_store_duration_seconds_count', { operation })).toBe(1);
    expect(valueOf(s, 'fedgate_state_store_duration_seconds_count', { operation: 'get' })).toBe(2);
    expect(valueOf(s, 'fedgate_state_store_errors_total', { operation: 'get' })).toBe(1);
    await store.close();
  });
});

describe('directory server labels', () => {
  it('host:port, with the scheme\'s default port, never the URL\'s other parts', () => {
    expect(serverLabel('ldaps://dc1.example.com')).toBe('dc1.example.com:636');
    expect(serverLabel('ldap://dc1.example.com')).toBe('dc1.example.com:389');
    expect(serverLabel('ldap://[2001:db8::1]:3268')).toBe('[2001:db8::1]:3268');
  });
});
